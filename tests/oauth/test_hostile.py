"""What a hostile or broken client gets: the RFC's error, never a 500, and nothing minted."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone

from oauth.models import AuthorizationCode
from tokens.models import Token

from .conftest import REDIRECT, Flow, challenge_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_minted_unless_asked(request, db):
    yield
    if "minted" not in request.fixturenames:
        assert not Token.objects.exists()


@pytest.fixture
def minted():
    """The test mints a connection on purpose."""


def authorize(flow: Flow, **overrides):
    return flow.client.get("/oauth/authorize?" + urlencode(flow.authorize_params(**overrides)))


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://evil.example/callback", "http://127.0.0.1:33418/other", "javascript:alert(1)", ""],
)
def test_an_unregistered_redirect_uri_is_explained_on_the_page_not_followed(flow, redirect_uri):
    flow.register()
    response = authorize(flow, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "can’t connect" in response.content.decode()
    assert "Location" not in response


def test_an_unknown_client_is_explained_on_the_page(flow):
    flow.client_id = "nobody"
    response = authorize(flow)
    assert response.status_code == 400 and "Location" not in response


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
    ],
)
def test_a_bad_authorization_request_goes_back_to_the_client_with_the_error(flow, overrides, error):
    flow.register()
    response = authorize(flow, **overrides)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(REDIRECT)
    assert f"error={error}" in location
    assert f"state={flow.state}" in location and "iss=http" in location


def test_denying_sends_access_denied_back(flow, acme):
    flow.register()
    params = flow.authorize_params()
    response = flow.client.post("/oauth/authorize", {**params, "deny": ""})
    assert response.status_code == 302 and "error=access_denied" in response["Location"]


def test_a_wrong_code_verifier_gets_invalid_grant(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    response = flow.exchange(code, code_verifier="x" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert not Token.objects.exists()


def test_a_missing_code_verifier_is_refused(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    response = flow.exchange(code, code_verifier=None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_code_for_another_client_is_refused(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    other = Flow(client=flow.client, verifier=flow.verifier)
    other.register(client_name="Another")
    response = other.exchange(code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = flow.exchange(code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_with_another_redirect_uri_is_refused(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    response = flow.exchange(code, redirect_uri="http://127.0.0.1:1/elsewhere")
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_grant", "invalid_request")


def test_a_code_for_another_resource_is_refused(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    response = flow.exchange(code, resource="https://elsewhere.example/mcp")
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": "password", "username": "a", "password": "b"},
        {"grant_type": "client_credentials"},
        {"grant_type": "refresh_token", "refresh_token": "tsr_rft_nonsense"},
        {"grant_type": "authorization_code", "code": "made-up", "code_verifier": "v" * 43},
        {},
    ],
)
def test_other_grants_and_made_up_values_get_an_oauth_error(flow, body):
    flow.register()
    response = flow.post("/oauth/token", {"client_id": flow.client_id, **body})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in (
        "unsupported_grant_type", "invalid_grant", "invalid_request", "invalid_client",
    )  # fmt: skip


def test_a_token_request_that_is_not_a_form_is_refused(flow):
    response = flow.client.post(
        "/oauth/token", {"grant_type": "x"}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://example.com/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://example.com/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://example.com/cb"}, "invalid_redirect_uri"),
        (
            {"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]},
            "invalid_client_metadata",
        ),
        (
            {"redirect_uris": [REDIRECT], "client_name": "Claude\\u202eedoC"},
            "invalid_client_metadata",
        ),
        ({"redirect_uris": [REDIRECT], "client_name": "two\\nlines"}, "invalid_client_metadata"),
    ],
)
def test_registration_refuses_bad_metadata(client, db, metadata, error):
    import json

    body = json.dumps(metadata).replace("\\\\u", "\\u").replace("\\\\n", "\\n")
    response = client.post("/oauth/register", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == error


def test_registration_refuses_a_body_that_is_not_json(client, db):
    response = client.post("/oauth/register", "{", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


def test_registration_accepts_loopback_redirects_on_any_port_and_ipv6(client, db):
    uris = [
        "http://127.0.0.1/cb",
        "http://[::1]:61234/cb",
        "http://localhost:9/cb",
        "https://app.example/cb",
    ]
    response = client.post(
        "/oauth/register",
        {"redirect_uris": uris, "client_name": "VS Code"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["redirect_uris"] == uris and body["token_endpoint_auth_method"] == "none"


def test_registrations_are_limited_per_address(client, db):
    body = {"redirect_uris": [REDIRECT]}
    statuses = [
        client.post("/oauth/register", body, content_type="application/json").status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [201] * 20 and statuses[20] == 429


def test_a_pkce_challenge_is_stored_and_the_code_is_hashed(flow, acme, minted):
    flow.register()
    code = flow.approve(acme)["code"]
    stored = AuthorizationCode.objects.get()
    assert stored.code_challenge == challenge_for(flow.verifier)
    assert code not in stored.digest
