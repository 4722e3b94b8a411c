"""Bad input and failures get clear 4xx/5xx answers, never an unexplained 500."""

import json
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from tests.factories import bearer, make_project, make_token, sign_in
from tokens.models import Token


@pytest.fixture
def quiet_client(client):
    client.raise_request_exception = False
    return client


def test_mcp_json_nested_100000_deep_is_a_parse_error(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/mcp", deep, content_type="application/json", **bearer(secret))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


def test_a_body_over_the_upload_limit_is_413_json_on_rest_and_mcp(client, user, org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    _, secret = make_token(owner=user, organization=org)
    project = make_project(organization=org)
    body = json.dumps({"title": "x", "description": "y" * 20_000})
    rest = client.post(
        f"/api/v1/projects/{project.pk}/tasks", body, content_type="application/json",
        **bearer(secret),
    )  # fmt: skip
    assert rest.status_code == 413 and "larger than 10 kB" in rest.json()["detail"]
    mcp = client.post("/mcp", body, content_type="application/json", **bearer(secret))
    assert mcp.status_code == 413 and mcp.json()["error"]["code"] == -32600


@pytest.mark.parametrize("path", ["/settings/developer/new", "/settings/agents/new"])
def test_an_absurd_custom_expiry_is_a_form_error_on_both_create_forms(client, user, org, path):
    sign_in(client, user)
    data = {"name": "x", "organization": org.pk, "access": "read", "project_access": "all",
            "expiry": "custom", "expires_on": "9999-12-31", "client": "other"}  # fmt: skip
    response = client.post(path, data)
    assert response.status_code == 200
    assert "Pick a date within a year." in response.content.decode()
    assert not Token.objects.exists()


def test_a_custom_expiry_within_a_year_is_fine(client, user, org):
    sign_in(client, user)
    day = timezone.localdate() + timedelta(days=366)
    data = {"name": "x", "organization": org.pk, "access": "read", "project_access": "all",
            "expiry": "custom", "expires_on": day.isoformat()}  # fmt: skip
    client.post("/settings/developer/new", data)
    assert Token.objects.get().expires_at is not None


def test_absurd_audit_dates_are_a_form_error(client, user, org):
    sign_in(client, user)
    response = client.get(f"/orgs/{org.slug}/audit/?until=9999-12-31&since=9999-01-01")
    assert response.status_code == 200
    assert "Pick a date up to today." in response.content.decode()


@pytest.mark.parametrize("field", ["projects", "organization"])
def test_ids_past_the_integer_range_are_form_errors(client, user, org, field):
    sign_in(client, user)
    data = {"name": "x", "organization": org.pk, "access": "read", "project_access": "selected",
            "expiry": "30", "projects": [1], field: str(2**70)}  # fmt: skip
    response = client.post("/settings/developer/new", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_the_audit_member_filter_refuses_an_id_past_the_range(client, user, org):
    sign_in(client, user)
    response = client.get(f"/orgs/{org.slug}/audit/?member={2**70}")
    assert response.status_code == 200
    assert "member" in response.context["form"].errors


def test_the_web_ui_answers_a_branded_503_while_the_database_is_down(
    quiet_client, user, monkeypatch
):
    import accounts.urls as account_urls  # the URL pattern holds the view: patch it there

    def down(request):
        raise OperationalError("connection refused")

    pattern = next(p for p in account_urls.urlpatterns if p.name == "profile")
    monkeypatch.setattr(pattern, "callback", down)
    response = quiet_client.get("/settings/profile/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Tessera is back shortly" in html and "Traceback" not in html


def test_other_failures_get_the_branded_500_page(quiet_client, db, monkeypatch):
    import accounts.urls as account_urls

    def broken(request):
        raise RuntimeError("bug")

    pattern = next(p for p in account_urls.urlpatterns if p.name == "security")
    monkeypatch.setattr(pattern, "callback", broken)
    response = quiet_client.get("/settings/security/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_a_missing_page_is_a_branded_404(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "We can’t find that page" in response.content.decode()


def test_a_stale_csrf_token_gets_a_page_that_says_to_reload(user, org):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, user)
    response = client.post("/settings/developer/new", {"name": "x"})
    assert response.status_code == 403
    assert "Your session expired" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/settings/security/", "/settings/developer/", "/settings/profile/", "/accounts/email/"],
)
def test_account_pages_are_never_cached_and_vary_on_hx_request(client, user, org, path):
    sign_in(client, user)
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_the_audit_page_is_never_cached(client, user, org):
    sign_in(client, user)
    response = client.get(f"/orgs/{org.slug}/audit/")
    assert "no-store" in response["Cache-Control"] and "HX-Request" in response["Vary"]


def test_an_htmx_request_without_a_session_is_sent_to_sign_in_as_a_full_page(client, user, org):
    from tests.factories import make_token

    token, _ = make_token(owner=user, organization=org)
    response = client.post(
        f"/settings/developer/tokens/{token.pk}/revoke/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/settings/developer/?q=ci",
    )
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fsettings%2Fdeveloper%2F%3Fq%3Dci"
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("to", ["%00", "acme%00", "%C0%AF", "a b", "", "x" * 300])
def test_the_organization_switcher_answers_404_to_what_is_not_a_slug(signed_in, org, to):
    """A NUL byte reached PostgreSQL and was a 500 there."""
    assert signed_in.get(f"/orgs/switch/?to={to}").status_code == 404


def test_the_organization_switcher_goes_to_the_same_page_in_the_chosen_organization(signed_in, org):
    response = signed_in.get(f"/orgs/switch/?to={org.slug}&page=audit")
    assert response.status_code == 302 and org.slug in response["Location"]
