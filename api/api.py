"""The JSON API at /api/v1/: token-authenticated, with its OpenAPI schema and docs.

Every 4xx and 5xx is an RFC 9457 problem (core/problems.py), whichever layer refused the
request: the middleware, a permission check, validation, or an unexpected failure.
"""

import copy
import logging
import re

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from core.emails import site_url
from core.problems import (
    DESCRIPTIONS,
    PROBLEMS,
    insufficient_scope,
    missing_token,
    problem,
    problem_type_url,
    service_unavailable,
)
from tokens.permissions import InsufficientScope

from . import openapi
from .leaks import router as leaks_router
from .me import router as me_router
from .projects import router as projects_router
from .tokens import router as tokens_router

logger = logging.getLogger(__name__)


class BearerToken:
    """The middleware has already authenticated the request; this only reads its result.

    The OpenAPI schema gets its bearer security scheme from `openapi_security_schema`.
    """

    openapi_type = "http"
    openapi_security_schema = {"type": "http", "scheme": "bearer"}

    def __call__(self, request: HttpRequest):
        return getattr(request, "token", None)


class TesseraAPI(NinjaAPI):
    _schemas: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas = {}

    def get_openapi_operation_id(self, operation) -> str:
        # `list_projects`, not `api_projects_list_projects`: what generated clients call.
        return operation.view_func.__name__

    def get_openapi_schema(self, *args, **kwargs):
        """Built once per process (the routes do not change while it runs), then given the
        server the request came to: a client generated from it calls the Tessera it came from."""
        key = repr((args, sorted(kwargs.items())))
        cached = self._schemas.get(key)
        if cached is None:
            cached = self._schemas[key] = openapi.finish(
                super().get_openapi_schema(*args, **kwargs)
            )
        schema = copy.deepcopy(cached)
        schema["servers"] = [{"url": site_url(), "description": "This Tessera"}]
        return schema


api = TesseraAPI(
    title="Tessera API",
    version="1",
    description=(
        "Send a personal access token as `Authorization: Bearer <token>`. "
        "Create tokens under Settings → Developer. Errors are RFC 9457 problem details; "
        "lists are paged with `page` and `page_size` and link their pages in `Link`."
    ),
    openapi_extra={
        "info": {"license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}}
    },
    auth=BearerToken(),
    urls_namespace="api-v1",
)


@api.exception_handler(AuthenticationError)
def _missing_token(request, exc):
    return missing_token()


@api.exception_handler(InsufficientScope)
def _insufficient_scope(request, exc: InsufficientScope):
    return insufficient_scope(exc.scope, exc.description)


@api.exception_handler(ObjectDoesNotExist)
@api.exception_handler(Http404)
def _not_found(request, exc):
    # Outside the token's reach looks exactly like never existing.
    return problem("not-found", "Nothing here, or nothing this token may see.")


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors
    ]
    # Each field with what it needs, such as the allowed values of an enum: the detail alone
    # tells a person what to change.
    fields = "; ".join(
        f"{error['loc'][-1]}: {error['msg']}" if error["loc"] else error["msg"] for error in errors
    )
    return problem("validation-error", f"Check {fields or 'the request'}.", errors=errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    # ninja raises these for a body that is not JSON (400) and the like.
    slug = next((s for s, (code, _) in PROBLEMS.items() if code == exc.status_code), None)
    return problem(slug or "bad-request", str(exc), status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1000
    return problem("payload-too-large", f"The request body is larger than {limit:,} kB.")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, exc):
    logger.warning("Database unreachable in %s %s", request.method, request.path, exc_info=True)
    return service_unavailable()


@api.exception_handler(Exception)
def _server_error(request, exc):
    """An unexpected failure: logged with its traceback, answered without one."""
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return problem("server-error", "Something went wrong on our side; it has been logged.")


def _marked_up(text: str) -> str:
    """A description for a page: escaped first, then each `code` span made a <code> element."""
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text)))  # noqa: S308


def _problem_type_page(context: dict, *, status: int = 200) -> HttpResponse:
    docs_url = reverse("api-v1:openapi-view")
    known = [(slug, PROBLEMS[slug][1]) for slug in PROBLEMS]
    page = render_to_string(
        "api/problem_type.html", {**context, "docs_url": docs_url, "known": known}
    )
    return HttpResponse(page, status=status)


def _wants_page(request: HttpRequest) -> bool:
    return request.get_preferred_type(["application/json", "text/html"]) == "text/html"


@api.get("/problems/", auth=None, include_in_schema=False, url_name="problem-types")
def problem_types(request):
    """There is no index of problem types, only one page each: a browser is shown a page that
    lists them; a program gets the 404 problem that any unknown API path answers."""
    return _no_such_type(request, "", f"There is no {request.path}.")


def _no_such_type(request: HttpRequest, slug: str, detail: str) -> HttpResponse:
    """A browser gets a 404 page that lists the types there are; a program, the 404 problem."""
    if _wants_page(request):
        response = _problem_type_page({"slug": slug}, status=404)
    else:
        response = problem("not-found", detail)
    response["Vary"] = "Accept"
    return response


@api.get("/problems/{slug}", auth=None, include_in_schema=False, url_name="problem-type")
def problem_type(request, slug: str):
    """What each problem `type` means: the URI the error bodies point to (RFC 9457 §3.1.1). A
    page for people who follow the link, JSON for programs."""
    if slug not in PROBLEMS:
        return _no_such_type(request, slug, f"No problem type {slug!r}.")
    status, title = PROBLEMS[slug]
    about = {
        "type": problem_type_url(slug),
        "title": title,
        "status": status,
        "description": DESCRIPTIONS[slug],
    }
    if _wants_page(request):
        response = _problem_type_page({**about, "description": _marked_up(DESCRIPTIONS[slug])})
    else:
        response = JsonResponse(about)
    response["Vary"] = "Accept"
    return response


api.add_router("/", me_router)
api.add_router("/", projects_router)
api.add_router("/", leaks_router)
api.add_router("/", tokens_router)
