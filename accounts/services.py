import math
import time

from allauth.account.internal.stagekit import unstash_login
from allauth.core.internal.ratelimit import get_cache_key, parse_rates
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from audit.services import Event, audit_record
from core import emails, ratelimits
from core.metrics import REFUSALS

from .models import User


def user_set_expiry_reminders(*, user: User, enabled: bool) -> bool:
    """Turn the emails about one's tokens expiring on or off (`manage.py notify_expiring` reads
    it); returns whether it changed. Project tokens' reminders go to every owner and admin who
    has them on."""
    if not isinstance(enabled, bool):
        raise ValidationError({"token_expiry_reminders": "Choose on or off."})
    if user.token_expiry_reminders == enabled:
        return False
    user.token_expiry_reminders = enabled
    user.save(update_fields=["token_expiry_reminders"])
    return True


def reauthentication_failed(*, user: User, ip: str | None, user_agent: str) -> None:
    """A wrong password from a signed-in session: audited, and on the REAUTH_ALERT_AFTER-th
    within an hour the owner is emailed, because whoever holds the session may not be them.
    (The attempts count against the account's sign-in limit too, so they lock like sign-in.)"""
    audit_record(
        event=Event.REAUTH_FAILED, subject_id=user.pk, actor=user, ip=ip, user_agent=user_agent
    )
    alert_after = settings.REAUTH_ALERT_AFTER
    window = ratelimits.hit(f"reauth-failures:{user.pk}", limit=alert_after, period=3600)
    if window is not None and window.admitted and window.count == alert_after:
        context = {
            "attempts": alert_after,
            "ip": ip,
            "user_agent": user_agent,
            "timestamp": timezone.now(),
        }
        subject_prefix = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        emails.send(
            "account/email/reauthentication_failed",
            context,
            [user.email],
            subject_prefix=subject_prefix,
        )


def login_attempts_key(login: str) -> str:
    """The key failed sign-ins count under for an account: the normalised address alone."""
    return f"account:{login.strip().lower()}"


def _wait_seconds(request: HttpRequest, user: User | None, action: str = "login_failed") -> int:
    """How long until allauth's limits on `action` (ACCOUNT_RATE_LIMITS) let one more attempt
    through, from the attempts they hold: per address, and per account by either key the sign-in
    steps count under (the address typed, or the account's second factor). At least 1; the
    longest window when nothing full is found."""
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get(action))
    login = user.email if user is not None else str(request.POST.get("login", ""))
    keys = [login_attempts_key(login)]
    if user is not None:
        keys.append(f"mfa-auth-user-{user.pk}")  # allauth's key for codes
    now = time.time()
    waits = []
    for rate in rates:
        for key in keys if rate.per == "key" else [None]:
            cache_key = get_cache_key(
                request, app="allauth.account", action=action, rate=rate, key=key
            )
            history = [at for at in cache.get(cache_key, []) if at > now - rate.duration]
            if len(history) >= rate.amount:
                waits.append(min(history) + rate.duration - now)
    longest = max((rate.duration for rate in rates), default=60)
    return max(1, math.ceil(max(waits, default=longest)))


def sign_in_throttled(*, request: HttpRequest, ip: str | None, user_agent: str) -> int:
    """A sign-in, second-factor or recovery-code attempt refused by the limit: it goes in the
    audit log, under the account it was aimed at when that is known (once a minute per account
    and address at most, so a flood of refused attempts cannot flood the log), and the answer
    is how many seconds until one more attempt is let through."""
    REFUSALS.labels("sign-in").inc()
    user = _aimed_at(request)
    if cache.add(f"throttled-noted:{getattr(user, 'pk', None)}:{ip}", 1, 60):
        audit_record(
            event=Event.THROTTLED,
            subject_id=getattr(user, "pk", None),
            ip=ip,
            user_agent=user_agent,
            detail={"path": request.path[:200]},
        )
    return _wait_seconds(request, user)


def _aimed_at(request: HttpRequest) -> User | None:
    """The signed-in user, the one halfway through signing in, or the owner of the typed address."""
    if request.user.is_authenticated:
        return request.user
    if (pending := unstash_login(request, peek=True)) is not None and pending.user is not None:
        return pending.user
    email = str(request.POST.get("login", "")).strip()
    return User.objects.filter(email__iexact=email).first() if email else None
