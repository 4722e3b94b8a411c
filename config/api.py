"""The JSON API at /api/v1/: token-authenticated, with its OpenAPI schema and docs."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from projects.api import router as projects_router
from tokens.api import router as tokens_router
from tokens.permissions import InsufficientScope
from tokens.responses import insufficient_scope, missing_token, service_unavailable

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    """The middleware has already authenticated the request; this only reads its result.

    Subclassing HttpBearer gives the OpenAPI schema its bearer security scheme.
    """

    def __call__(self, request: HttpRequest):
        return getattr(request, "token", None)

    def authenticate(self, request: HttpRequest, token: str):
        return getattr(request, "token", None)


api = NinjaAPI(
    title="Tessera API",
    version="1",
    description=(
        "Send a personal access token as `Authorization: Bearer <token>`. "
        "Create tokens under Settings → Developer."
    ),
    auth=BearerToken(),
    urls_namespace="api-v1",
)


@api.exception_handler(AuthenticationError)
def _missing_token(request, exc):
    return missing_token()


@api.exception_handler(Exception)
def _server_error(request, exc):
    """An unexpected failure: logged with its traceback, answered as JSON without one."""
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return api.create_response(request, {"detail": "Internal server error"}, status=500)


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1000
    return api.create_response(
        request, {"detail": f"The request body is larger than {limit:,} kB."}, status=413
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, exc):
    logger.warning("Database unreachable in %s %s", request.method, request.path, exc_info=True)
    return service_unavailable()


@api.exception_handler(InsufficientScope)
def _insufficient_scope(request, exc: InsufficientScope):
    return insufficient_scope(exc.scope, exc.description)


api.add_router("/", tokens_router)
api.add_router("/", projects_router)
