from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.core.mail import EmailMessage

from core import emails
from core.http import client_ip, request_origin

from .decorators import signed_in_recently
from .services import login_attempts_key, reauthentication_failed, sign_in_throttled
from .views import too_many_requests

# allauth's notices of a change to the account (rule 11): sent from a background task like every
# email of Tessera's (core.emails.enqueue). The others stay in the request: they carry a one-time
# code or link (a queue would keep it in plain text), or are the look-alike that stands in for
# one when no account exists (password reset, sign-up), which must take the same time as it.
QUEUED_EMAILS = {
    "account/email/email_changed",
    "account/email/email_confirm",
    "account/email/email_deleted",
    "account/email/password_changed",
    "account/email/password_reset",
    "account/email/password_set",
    "mfa/email/recovery_codes_generated",
    "mfa/email/totp_activated",
    "mfa/email/totp_deactivated",
    "mfa/email/webauthn_added",
    "mfa/email/webauthn_removed",
}


class AccountAdapter(DefaultAccountAdapter):
    """Where Tessera's account rules meet allauth's flows."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": "This email and password are not correct together. Check "
        "both, or reset your password below.",
    }

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """The notices in QUEUED_EMAILS go to a background task; the rest as allauth sends them."""
        if template_prefix not in QUEUED_EMAILS:
            return super().send_mail(template_prefix, email, context)
        context = {"request": self.request, "email": email, **context}
        emails.enqueue(self.render_mail(template_prefix, email, context))

    def get_client_ip(self, request) -> str:
        # One answer for sign-in throttles, token last use and the audit log (TRUSTED_PROXY_HOPS).
        return client_ip(request.META) or "0.0.0.0"  # noqa: S104 (a key, not a bind address)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed sign-ins count per account: the normalised address alone. allauth adds the
        site's domain, which without django.contrib.sites is the request's Host header, so
        every port, letter case or trailing dot of an allowed host would start a fresh count."""
        return login_attempts_key(credentials.get("email") or credentials.get("username") or "")

    def authentication_failed(self, request, **credentials) -> None:
        """A wrong password from someone already signed in (re-authentication, password change)
        is counted, and the owner hears of it (accounts.services)."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reauthentication_failed(user=user, **request_origin(request.META))

    def validation_error(self, code: str, *args):
        """Too many failed sign-ins, second-factor codes or recovery codes: a 429 that says how
        long to wait, counted in the audit log, instead of a form error with a 200."""
        if code in ("too_many_login_attempts", "rate_limited") and self.request is not None:
            wait = sign_in_throttled(request=self.request, **request_origin(self.request.META))
            raise ImmediateHttpResponse(too_many_requests(self.request, retry_after=wait))
        return super().validation_error(code, *args)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A sign-in within the window counts as much as a re-authentication does (sudo mode),
        for allauth's own security pages as for Tessera's."""
        request = self.request
        if request is not None and request.user.is_authenticated and signed_in_recently(request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """allauth's emails, in Tessera's words (templates/account/email/, mfa/email/), go through
        the one renderer every email uses, with its layout and the real site address."""
        context = {**context, "confirmation_days": settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS}
        message = emails.render(
            template_prefix, context, subject_prefix=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        )
        message.to = [email] if isinstance(email, str) else list(email)
        message.from_email = self.get_from_email()
        message.extra_headers.update(headers or {})
        return message
