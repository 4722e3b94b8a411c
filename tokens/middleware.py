import logging

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils.functional import SimpleLazyObject

from audit.services import Event, audit_record
from config.http import client_ip

from .responses import invalid_token, service_unavailable, too_many_failures
from .services import AuthenticationFailed, TooManyFailures, token_authenticate

TOKEN_PATHS = ("/api/", "/mcp")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
logger = logging.getLogger(__name__)


class BearerTokenMiddleware:
    """Authenticates API and MCP requests by bearer token, and by bearer token only.

    On those paths the session user is dropped, so a browser's cookie never reaches the API;
    everywhere else the Authorization header is ignored, so a token never reaches the web UI.
    A present but unusable token is refused here with 401; a missing one is left to the
    endpoint, because the API's docs and schema are public.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(TOKEN_PATHS):
            return self.get_response(request)
        request.user = AnonymousUser()
        request.token = None
        # Token requests carry no cookie-borne authority, so CSRF protection does not apply.
        request._dont_enforce_csrf_checks = True
        # request.META, not request.headers: the latter builds a map of every header first.
        meta = request.META
        authorization = meta.get("HTTP_AUTHORIZATION")
        if authorization is not None:
            try:
                token = token_authenticate(
                    authorization=authorization,
                    ip=client_ip(meta),
                    user_agent=meta.get("HTTP_USER_AGENT", ""),
                )
            except AuthenticationFailed as exc:
                return invalid_token(exc.description)
            except TooManyFailures as exc:
                return too_many_failures(exc.retry_after)
            except (OperationalError, InterfaceError):
                logger.warning("Database unreachable while authenticating a token", exc_info=True)
                return service_unavailable()
            request.token = token
            request.user = SimpleLazyObject(lambda: token.owner)
        response = self.get_response(request)
        if (
            request.token is not None
            and request.method not in SAFE_METHODS
            and request.path_info.startswith("/api/")
            and response.status_code != 503
        ):
            self._record_write(request, response)
        return response

    @staticmethod
    def _record_write(request, response) -> None:
        """Every API write attempt, allowed or refused, goes to the audit log (MCP tools record
        their own, by tool name). A failure to record never turns the answer into an error."""
        try:
            audit_record(
                event=Event.API_WRITE,
                token=request.token,
                actor_id=request.token.owner_id,
                action=f"{request.method} {request.path_info}",
                status=response.status_code,
                ip=client_ip(request.META),
            )
        except DatabaseError:
            logger.exception("Could not record an API write in the audit log")
