from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.core.exceptions import ValidationError

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
