from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage

from core import emails
from core.http import client_ip

from .decorators import signed_in_recently
from .views import too_many_requests


class AccountAdapter(DefaultAccountAdapter):
    """Where Tessera's account rules meet allauth's flows."""

    def get_client_ip(self, request) -> str:
        # One answer for sign-in throttles, token last use and the audit log (TRUSTED_PROXY_HOPS).
        return client_ip(request.META) or "0.0.0.0"  # noqa: S104 (a key, not a bind address)

    def pre_authenticate(self, request, **credentials) -> None:
        """Too many failed sign-ins is a 429 with Retry-After, not a form error with a 200."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(too_many_requests(request)) from exc
            raise

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
