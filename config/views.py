"""Project-wide pages: the home redirect, the health check, and the error pages."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader

TOKEN_PATHS = ("/api/", "/mcp")


def home(request):
    return redirect("token-list" if request.user.is_authenticated else "account_login")


def healthz(request):
    """Liveness for load balancers and the load test: no database, no session, no auth."""
    return JsonResponse({"status": "ok"})


def api_not_found(request, rest=""):
    from tokens.responses import problem

    return problem("not-found", f"There is no /api/{rest}.")


def csrf_failure(request, reason=""):
    """A form posted with a stale or missing CSRF token: most often a page left open too long."""
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """500, or 503 when the database is out of reach: a page that needs no database to render
    (no request context, so no session or user is loaded), and JSON on the token paths."""
    unavailable = isinstance(sys.exc_info()[1], OperationalError | InterfaceError)
    if request.path_info.startswith(TOKEN_PATHS):
        from tokens.responses import problem, service_unavailable

        if unavailable:
            return service_unavailable(mcp=request.path_info.startswith("/mcp"))
        return problem("server-error", "Something went wrong on our side; it has been logged.")
    if unavailable:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)
