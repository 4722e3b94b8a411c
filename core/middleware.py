import logging
import os
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from corsheaders.middleware import CorsMiddleware as BaseCorsMiddleware
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.module_loading import import_string
from django_htmx.http import HttpResponseClientRedirect

from .emails import current_request

PRIVATE_PATHS = ("/settings/", "/orgs/", "/accounts/")
Handler = Callable[[HttpRequest], HttpResponseBase]
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class Middleware:
    """What every Tessera middleware is: built once with the rest of the chain, then called
    with each request (Django's own shape, without MiddlewareMixin's hooks)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response


class RequestIdMiddleware(Middleware):
    """Every request gets an id: the caller's X-Request-Id when it is sane (1 to 64 letters,
    digits, dots, dashes, underscores or colons), else a new one. It is answered in
    X-Request-Id, written in log lines and kept on audit entries, so one failure can be traced
    from a client's report to the server's log. The request is also what emails sent while
    answering it link to (core.emails.site_url)."""

    def __call__(self, request: Any) -> HttpResponseBase:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        request.request_id = request_id
        reset = request_id_var.set(request_id)
        answering = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(answering)
            request_id_var.reset(reset)
        response["X-Request-Id"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on log records (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id == "-":
            # django.request logs a 4xx or 5xx once the middleware has returned, with the
            # request attached: the id is still on it.
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True


class HtmxRedirectMiddleware(Middleware):
    """A redirect answering an HTMX request becomes a full-page visit (HX-Redirect).

    Signing in, re-authenticating and setting up two factors are pages of their own: without
    this, htmx would follow the redirect and swap the sign-in page into a table row.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and 300 <= response.status_code < 400
            and response.has_header("Location")
        ):
            redirect = HttpResponseClientRedirect(
                self._back_to_the_page(request, response["Location"])
            )
            # What the redirect set (a new session, a message for the next page) still lands.
            redirect.cookies = response.cookies
            return redirect
        return response

    @staticmethod
    def _back_to_the_page(request: HttpRequest, location: str) -> str:
        """A `next` that names the fragment's URL (a table row, a form's POST target) should
        bring the user back to the page they were on instead."""
        target = urlsplit(location)
        params = parse_qs(target.query)
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if params.get("next") != [request.path] or current.netloc != request.get_host():
            return location
        params["next"] = [current.path + (f"?{current.query}" if current.query else "")]
        return urlunsplit(target._replace(query=urlencode(params, doseq=True)))


class PrivatePagesMiddleware(Middleware):
    """Account, token and audit pages are never cached, and vary on HX-Request, so Back or a
    shared cache never shows one person's page to another, or a bare HTMX fragment."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path_info.startswith(PRIVATE_PATHS):
            add_never_cache_headers(response)
            patch_vary_headers(response, ["HX-Request"])
        return response


class CorsMiddleware(BaseCorsMiddleware):
    """django-cors-headers, for requests that carry an Origin: only browsers send one, and the
    scripts, CI jobs and agents that make most API requests should not pay for CORS. Responses
    the API lets a browser keep still vary on Origin (api.middleware.ApiConventionsMiddleware)."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "HTTP_ORIGIN" not in request.META:
            return self.get_response(request)  # type: ignore[return-value]  # sync only
        return super().__call__(request)  # type: ignore[return-value]


class PathDispatchMiddleware:
    """Middleware that has nothing to do for a request should cost it nothing. Past this point a
    request takes one chain, chosen once by the start of its path (settings.MIDDLEWARE_BY_PATH):
    the API's and MCP's (a bearer token, its limits and conventions) or the pages' (a session,
    its user and messages, HTMX), never both; /healthz takes none.

    The chains hold only middleware that works through __call__ alone: Django runs process_view,
    process_exception and process_template_response only for MIDDLEWARE's own entries, so a
    class that needs them (CSRF, allauth's) stays there, and one in a chain is refused at start.
    """

    def __init__(self, get_response: Handler):
        self.routes = [
            (prefix, self._chain(paths, get_response))
            for prefix, paths in settings.MIDDLEWARE_BY_PATH
        ]

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        for prefix, chain in self.routes:
            if path.startswith(prefix):
                return chain(request)
        raise ImproperlyConfigured(f"No middleware chain for {path!r}: end with a '' route.")

    @staticmethod
    def _chain(paths: list[str], get_response: Handler) -> Handler:
        handler = get_response
        for path in reversed(paths):
            middleware = import_string(path)(handler)
            hooks = ("process_view", "process_exception", "process_template_response")
            if any(hasattr(middleware, hook) for hook in hooks):
                raise ImproperlyConfigured(f"{path} has hooks only MIDDLEWARE runs: list it there.")
            handler = convert_exception_to_response(middleware)  # type: ignore[assignment]
        return handler
