import unicodedata
from datetime import datetime, timedelta
from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.services import Event, audit_record
from orgs.models import Membership

from . import codec, ratelimits
from .models import Token
from .permissions import SCOPES, describe_access
from .selectors import TokenPrincipal, token_get_for_auth

MAX_AUTHORIZATION_LENGTH = 256


class TokenValidationError(Exception):
    """A token cannot be created as asked; `field` names the form field to blame, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class AuthenticationFailed(Exception):
    """The bearer token cannot be used; `description` is safe to show the caller, and `reason`
    names the problem type (tokens.responses.PROBLEMS)."""

    def __init__(self, description: str, reason: str = "malformed-token"):
        super().__init__(description)
        self.description = description
        self.reason = reason


class TooManyFailures(Exception):
    """This client sent too many unusable tokens this minute; it may retry after `retry_after`."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@sensitive_variables("secret")
def token_create(
    *,
    owner,
    organization,
    name: str,
    scopes: list[str],
    description: str = "",
    projects=None,
    expires_at: datetime | None = None,
    kind: str = Token.Kind.PERSONAL,
    client: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[Token, str]:
    """Mint a token and return it with its secret, which exists only in this return value.

    `projects=None` means every project of the organization; a list restricts the token to those.
    The owner is emailed (never the secret), with where the request came from (`ip`,
    `user_agent`) when there was one.
    """
    if not owner.email_verified:
        raise TokenValidationError("Verify your email address before creating tokens.")
    if not Membership.objects.filter(user=owner, organization=organization).exists():
        raise TokenValidationError("You are not a member of this organization.", "organization")
    if organization.require_two_factor and not owner.has_two_factors:
        raise TokenValidationError(
            f"{organization.name} requires two-factor authentication: set it up under "
            "Settings → Security first.",
            "organization",
        )
    name = name.strip()
    if not name:
        raise TokenValidationError("Give the token a name.", "name")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        # Line breaks and invisible formatting (bidi overrides such as U+202E) would let a name
        # pose as something else in lists, emails and logs.
        raise TokenValidationError(
            "Use plain text: no line breaks or invisible formatting characters.", "name"
        )
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenValidationError(f"Unknown scope: {', '.join(unknown)}.", "scopes")
    if not scopes:
        raise TokenValidationError("Choose at least one scope.", "scopes")
    if projects is not None:
        projects = list(projects)
        if not projects:
            raise TokenValidationError("Choose at least one project.", "projects")
        if any(project.organization_id != organization.pk for project in projects):
            raise TokenValidationError(f"Choose projects of {organization.name} only.", "projects")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenValidationError("The expiry must be in the future.", "expires_on")

    secret = codec.generate(kind)
    try:
        with transaction.atomic():
            token = Token.objects.create(
                kind=kind,
                owner=owner,
                organization=organization,
                name=name,
                description=description.strip(),
                digest=codec.digest(secret),
                prefix=codec.display_prefix(secret),
                scopes=[scope for scope in SCOPES if scope in scopes],
                all_projects=projects is None,
                expires_at=expires_at,
                client=client if kind == Token.Kind.AGENT else "",
            )
            if projects:
                token.projects.set(projects)
            audit_record(
                event=Event.AGENT_CONNECTED if kind == Token.Kind.AGENT else Event.TOKEN_CREATED,
                token=token,
                actor_id=owner.pk,
                ip=ip,
                user_agent=user_agent,
                detail={"name": token.name, "scopes": token.scopes, "client": token.client},
            )
            transaction.on_commit(
                lambda: _tell_owner_of_new_token(token=token, ip=ip, user_agent=user_agent)
            )
    except IntegrityError as exc:
        raise TokenValidationError(
            f"You already have a token named “{name}”. Pick another name or revoke that one.",
            "name",
        ) from exc
    return token, secret


def _settings_url(token: Token) -> str:
    path = "/settings/agents/" if token.kind == Token.Kind.AGENT else "/settings/developer/"
    return settings.SITE_URL.rstrip("/") + path


def _tell_owner_of_new_token(*, token: Token, ip: str | None, user_agent: str) -> None:
    """Rule 11: a stolen session cannot mint a credential silently. Never holds the secret."""
    what = "agent connection" if token.kind == Token.Kind.AGENT else "personal access token"
    expires = (
        timezone.localtime(token.expires_at).strftime("%b %-d, %Y %H:%M %Z")
        if token.expires_at
        else "never"
    )
    origin = f"{ip or 'an unknown address'}" + (f" ({user_agent[:200]})" if user_agent else "")
    send_mail(
        subject=one_line(f"New {what} “{token.name}” on your Tessera account"),
        message=(
            f"A {what} was created on your Tessera account.\n\n"
            f"Name: {token.name}\n"
            f"Token: {token.prefix}… (the rest is never shown again)\n"
            f"Organization: {token.organization.name}\n"
            f"Access: {describe_access(token.scopes)}\n"
            f"Expires: {expires}\n"
            f"Created from: {origin}\n\n"
            "If this was not you, revoke it now and change your password:\n"
            f"{_settings_url(token)}\n"
        ),
        from_email=None,
        recipient_list=[token.owner.email],
    )


def token_revoke(*, token: Token, by=None) -> bool:
    """Revoke at once and for good; False if it was already revoked.

    `by` is the owner, an organization admin (agent connections only: the caller checks), or
    None for the incident command. Anyone but the owner revoking it emails the owner.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = Token.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=by
        )
        if not updated:
            return False
        token.revoked_at, token.revoked_by = now, by
        if by is None:
            revoked_by = "incident"
        elif by.pk == token.owner_id:
            revoked_by = "owner"
        else:
            revoked_by = "admin"
        audit_record(
            event=Event.TOKEN_REVOKED,
            token=token,
            actor_id=by.pk if by else None,
            detail={"by": revoked_by, "name": token.name},
        )
    if revoked_by != "owner":
        _tell_owner_of_revocation(token=token, by=by)
    return True


def token_revoke_all(*, owner, reason: str, organization=None) -> int:
    """Revoke every active token of `owner` (in one organization, or everywhere) when they leave
    it or their account is deactivated. Audited one by one with the reason; no emails, since the
    person's access itself is what changed. Coming back does not bring the tokens back."""
    now = timezone.now()
    tokens = Token.objects.filter(owner=owner, revoked_at__isnull=True)
    if organization is not None:
        tokens = tokens.filter(organization=organization)
    with transaction.atomic():
        ended = list(tokens.select_for_update().only("id", "prefix", "name", "organization_id"))
        Token.objects.filter(pk__in=[token.pk for token in ended]).update(revoked_at=now)
        for token in ended:
            token.owner_id = owner.pk
            audit_record(
                event=Event.TOKEN_REVOKED,
                token=token,
                detail={"by": reason, "name": token.name},
            )
    return len(ended)


def one_line(text: str) -> str:
    """Text safe for an email subject: no line breaks or other control characters."""
    return "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)


def _tell_owner_of_revocation(*, token: Token, by) -> None:
    what = "agent connection" if token.kind == Token.Kind.AGENT else "access token"
    who = f"{by.email}, an admin of {token.organization.name}," if by else "an operator"
    send_mail(
        subject=one_line(f"Your {what} “{token.name}” was revoked"),
        message=(
            f"{who} revoked your {what} “{token.name}” ({token.prefix}…) in "
            f"{token.organization.name}. Anything using it is refused from now on.\n\n"
            "If you still need access, create a new one from your settings.\n"
        ),
        from_email=None,
        recipient_list=[token.owner.email],
    )


@sensitive_variables("authorization", "value")
def bearer_token(authorization: str) -> codec.ParsedToken:
    """The token in an `Authorization: Bearer` header, checked offline (shape and checksum);
    AuthenticationFailed, costing no query, when it is not one."""
    if len(authorization) > MAX_AUTHORIZATION_LENGTH:
        raise AuthenticationFailed("The access token is malformed.")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
    try:
        return codec.parse(value.strip())
    except codec.MalformedToken as exc:
        raise AuthenticationFailed("The access token is malformed.") from exc


@sensitive_variables("authorization")
def token_authenticate(*, authorization: str, ip: str | None, user_agent: str) -> TokenPrincipal:
    """Turn an Authorization header into a usable token, or raise AuthenticationFailed.

    Malformed input costs no query and counts nothing; a valid token costs one query, plus a
    write at most once a minute, and never touches the failure counter. A well-formed token that
    cannot be used counts against its client's address; past AUTH_FAILURE_LIMIT_PER_MINUTE the
    answer is TooManyFailures instead.
    """
    parsed = bearer_token(authorization)
    token = token_get_for_auth(digest=parsed.digest)
    now = timezone.now()
    if token is None:
        _refuse("The access token is not recognised.", "unknown-token", ip=ip)
    if token.revoked_at is not None:
        _token_record_rejection(token=token, reason="revoked", now=now, ip=ip)
        _refuse("The access token was revoked.", "token-revoked", ip=ip)
    if token.is_expired(now):
        _token_record_rejection(token=token, reason="expired", now=now, ip=ip)
        _refuse("The access token expired.", "token-expired", ip=ip)
    if not token.owner_active or token.role is None:
        _refuse("The access token's owner no longer has access.", "owner-inactive", ip=ip)
    if not token.two_factor_ok:
        raise AuthenticationFailed(
            f"{token.organization_name} requires two-factor authentication: the token's owner "
            "must turn it on under Settings → Security.",
            "two-factor-required",
        )
    _token_mark_used(token=token, now=now, ip=ip, user_agent=user_agent)
    return token


def _refuse(description: str, reason: str, *, ip: str | None) -> NoReturn:
    window = ratelimits.hit(
        f"auth-failures:{ip}", limit=settings.AUTH_FAILURE_LIMIT_PER_MINUTE, period=60
    )
    if window is not None and window.exceeded:
        raise TooManyFailures(window.retry_after())
    raise AuthenticationFailed(description, reason)


def _token_record_rejection(
    *, token: TokenPrincipal, reason: str, now: datetime, ip: str | None
) -> None:
    """Log a use after revocation or expiry, once a minute per token at most, so a script stuck
    retrying a dead token cannot fill the log. Same shape as last use: the row we already read
    says whether to write, and a conditional UPDATE settles races between processes."""
    stale_before = now - timedelta(seconds=settings.TOKEN_LAST_USED_INTERVAL_SECONDS)
    if token.last_rejected_at is not None and token.last_rejected_at > stale_before:
        return
    claimed = Token.objects.filter(
        Q(last_rejected_at__isnull=True) | Q(last_rejected_at__lte=stale_before), pk=token.pk
    ).update(last_rejected_at=now)
    if claimed:
        audit_record(event=Event.TOKEN_REJECTED, token=token, ip=ip, detail={"reason": reason})


def _token_mark_used(
    *, token: TokenPrincipal, now: datetime, ip: str | None, user_agent: str
) -> None:
    """Record last use at most once per interval: a conditional UPDATE, skipped when fresh."""
    stale_before = now - timedelta(seconds=settings.TOKEN_LAST_USED_INTERVAL_SECONDS)
    if token.last_used_at is not None and token.last_used_at > stale_before:
        return
    Token.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before), pk=token.pk
    ).update(last_used_at=now, last_used_ip=ip, last_used_user_agent=user_agent[:255])
    token.last_used_at = now


def policy_update(*, organization, by, require_two_factor: bool) -> bool:
    """Change the organization's policy (owners only: the caller checks); audited. Returns
    whether anything changed."""
    if organization.require_two_factor == require_two_factor:
        return False
    if require_two_factor and not by.has_two_factors:
        raise ValidationError(
            {"require_two_factor": "Turn on two-factor authentication for your own account first."}
        )
    organization.require_two_factor = require_two_factor
    organization.save(update_fields=["require_two_factor"])
    audit_record(
        event=Event.POLICY_CHANGED,
        organization_id=organization.pk,
        actor_id=by.pk,
        detail={"require_two_factor": require_two_factor},
    )
    return True
