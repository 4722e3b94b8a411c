import logging

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.utils.functional import SimpleLazyObject

from core.http import client_ip, is_mcp_path
from core.metrics import ACCEPTED, AUTHENTICATIONS, REFUSALS
from core.problems import refusal, service_unavailable

from .authentication import AuthenticationFailed, TooManyFailures, token_authenticate

logger = logging.getLogger(__name__)


class BearerTokenMiddleware:
    """Authenticates API and MCP requests by bearer token, and by bearer token only.

    It runs on those paths alone (core.middleware.PathDispatchMiddleware), where no session is
    loaded, so a browser's cookie never reaches the API; the pages never look at the
    Authorization header, so a token never reaches the web UI.
    A present but unusable token is refused here (401, or 429 past the failed-attempt limit); a
    missing one is left to the endpoint, because the API's docs and schema are public. This class
    only authenticates: limits, auditing and response headers are other middleware's business.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = AnonymousUser()
        request.token = None
        # Token requests carry no cookie-borne authority, so CSRF protection does not apply.
        request._dont_enforce_csrf_checks = True
        # request.META, not request.headers: the latter builds a map of every header first.
        meta = request.META
        authorization = meta.get("HTTP_AUTHORIZATION")
        if authorization is not None:
            mcp = is_mcp_path(request.path_info)
            try:
                token = token_authenticate(
                    authorization=authorization,
                    ip=client_ip(meta),
                    user_agent=meta.get("HTTP_USER_AGENT", ""),
                    path=request.path_info,
                )
            except AuthenticationFailed as exc:
                AUTHENTICATIONS.labels("refused", exc.reason).inc()
                return refusal(exc.reason, exc.description, mcp=mcp)
            except TooManyFailures as exc:
                AUTHENTICATIONS.labels("throttled", "rate-limited").inc()
                REFUSALS.labels("unusable-tokens").inc()
                detail = (
                    "Too many unusable tokens from this address. "
                    f"Try again in {exc.retry_after} seconds."
                )
                return refusal("rate-limited", detail, mcp=mcp, retry_after=exc.retry_after)
            except (OperationalError, InterfaceError):
                AUTHENTICATIONS.labels("error", "service-unavailable").inc()
                logger.warning("Database unreachable while authenticating a token", exc_info=True)
                return service_unavailable(mcp=mcp)
            ACCEPTED.inc()
            request.token = token
            if token.owner_id is not None:  # a project token acts as no person
                request.user = SimpleLazyObject(lambda: token.owner)
        return self.get_response(request)
