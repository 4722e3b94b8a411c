"""Project-wide pages: the home redirect, the organization switcher, the health check, and the
error pages. They sit above every app, so they may name any app's pages."""

import logging
import sys
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.validators import slug_re
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET, require_safe

from core import ipallow
from core.cache import cache_reachable
from core.http import client_ip, is_mcp_path, is_token_path
from core.metrics import exposition
from core.problems import problem, service_unavailable
from orgs.models import Role
from orgs.selectors import organization_get_for_overseer

# The organization pages the switcher can land on, by the name it sends.
ORGANIZATION_PAGES = {
    "agents": "agent-oversight",
    "projects": "project-list",
    "audit": "audit-log",
    "policy": "org-policy",
}

logger = logging.getLogger(__name__)


def home(request):
    return redirect("token-list" if request.user.is_authenticated else "account_login")


@login_required
@require_GET
def organization_switch(request):
    """The organization switcher's links (settings/base.html): the same page, in the organization
    chosen (its Agents page when only owners may see that page and the person is an admin there),
    with the focus back on the switcher (#org-switcher, static/js/app.js)."""
    slug = request.GET.get("to", "")
    if not slug_re.match(slug):  # a NUL byte, say, would reach PostgreSQL and fail there
        raise Http404("No such organization.")
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    page = ORGANIZATION_PAGES.get(request.GET.get("page", ""), "agent-oversight")
    if page == "org-policy" and getattr(organization, "my_role", None) != Role.OWNER:
        page = "agent-oversight"
    return redirect(reverse(page, args=[organization.slug]) + "#org-switcher")


def healthz(request):
    """Liveness for load balancers and the load test: no database, no session, no auth."""
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request):
    """Readiness for the balancer: 503 (with Retry-After) while the database cannot be reached,
    so the balancer sends requests elsewhere. The shared store (Redis) is reported but does not
    make a host unready: every host shares it, limits fail open without it, and taking every
    host out of the pool would turn a degraded service into an outage."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except (OperationalError, InterfaceError):
        logger.warning("Not ready: the database cannot be reached", exc_info=True)
        checks["database"] = "unreachable"
    reachable = cache_reachable()
    checks["redis"] = {None: "not configured", True: "ok", False: "unreachable"}[reachable]
    ready = checks["database"] == "ok"
    response = JsonResponse({"status": "ready" if ready else "unavailable", **checks})
    if not ready:
        response.status_code = 503
        response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def metrics(request):
    """Prometheus' text format, for the scrapers settings name; a 404 for anyone else, as if
    there were nothing here."""
    try:
        allowed = ipallow.normalize(settings.METRICS_ALLOWED_IPS)
    except ipallow.InvalidAllowlist:
        logger.error("METRICS_ALLOWED_IPS is not a list of addresses and networks: closed")
        allowed = ""
    ip = client_ip(request.META)
    bearer = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
    token_ok = bool(settings.METRICS_TOKEN) and constant_time_compare(
        bearer, settings.METRICS_TOKEN
    )
    if not token_ok and not (allowed and ipallow.allows(allowed, ip)):
        raise Http404
    body, content_type = exposition()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


SECURITY_TXT_LIFETIME = timedelta(days=180)  # RFC 9116 §2.5.5: less than a year ahead


@require_safe
def security_txt(request):
    """/.well-known/security.txt (RFC 9116): whom to tell of a vulnerability, and the policy for
    the commonest report, a leaked token (POST /api/v1/credentials/revoke revokes it at once).
    Expires moves with the calendar, a day at a time, so the file never goes stale."""
    site = request.build_absolute_uri("/").rstrip("/")
    expires = (timezone.now() + SECURITY_TXT_LIFETIME).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    docs = reverse("api-v1:openapi-view")
    lines = [
        *(f"Contact: {c if ':' in c else 'mailto:' + c}" for c in settings.SECURITY_CONTACT),
        f"Expires: {expires.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "Preferred-Languages: en",
        f"Canonical: {site}{request.path}",
        f"Policy: {site}{docs}#/Leaked%20tokens/revoke_credentials",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def api_not_found(request, rest=""):
    return problem("not-found", f"There is no /api/{rest}.")


def csrf_failure(request, reason=""):
    """A form posted with a stale or missing CSRF token: most often a page left open too long."""
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """500, or 503 when the database is out of reach: a page that needs no database to render
    (no request context, so no session or user is loaded), and JSON on the token paths."""
    unavailable = isinstance(sys.exc_info()[1], OperationalError | InterfaceError)
    if is_token_path(request.path_info):
        if unavailable:
            return service_unavailable(mcp=is_mcp_path(request.path_info))
        return problem("server-error", "Something went wrong on our side; it has been logged.")
    if unavailable:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)
