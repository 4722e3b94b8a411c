"""One dispatch for middleware (core.middleware.PathDispatchMiddleware): a request to the API or
MCP takes the token chain, a page the pages' chain, /healthz neither, and never both."""

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse

from core.middleware import PathDispatchMiddleware
from tests.factories import bearer, make_token


def chain_of(path: str) -> list[str]:
    return next(paths for prefix, paths in settings.MIDDLEWARE_BY_PATH if path.startswith(prefix))


def test_an_api_request_carries_a_token_and_no_session(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    request = client.get("/api/v1/me", **bearer(secret)).wsgi_request
    assert request.token.owner_id == user.pk
    assert not hasattr(request, "session") and not hasattr(request, "htmx")


def test_a_page_request_carries_a_session_and_no_token(signed_in):
    request = signed_in.get("/settings/developer/").wsgi_request
    assert request.session.session_key and request.user.is_authenticated
    assert hasattr(request, "htmx") and not hasattr(request, "token")


def test_the_health_check_takes_no_chain(client, db):
    request = client.get("/healthz").wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "token")


def test_the_pages_chain_has_what_the_admin_needs(settings):
    """The admin's own checks (admin.E408-E410) look in MIDDLEWARE; here is where they are."""
    pages = chain_of("/admin/")
    for needed in ("SessionMiddleware", "AuthenticationMiddleware", "MessageMiddleware"):
        assert any(path.endswith(needed) for path in pages), needed
    assert {"admin.E408", "admin.E409", "admin.E410"} <= set(settings.SILENCED_SYSTEM_CHECKS)


def test_csrf_and_allauth_stay_where_django_runs_their_hooks(settings):
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert "allauth.account.middleware.AccountMiddleware" in settings.MIDDLEWARE
    for _, paths in settings.MIDDLEWARE_BY_PATH:
        assert not any("csrf" in path.lower() for path in paths)


def test_a_chain_refuses_middleware_whose_hooks_it_would_never_run(settings):
    settings.MIDDLEWARE_BY_PATH = [("", ["django.middleware.csrf.CsrfViewMiddleware"])]
    with pytest.raises(ImproperlyConfigured, match="hooks only MIDDLEWARE runs"):
        PathDispatchMiddleware(lambda request: HttpResponse())
