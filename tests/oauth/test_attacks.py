"""What an attack on a fresh clone found, each pinned: an allow list bypassed with a second
redirect URI, NUL bytes, PKCE values out of shape, fetches no one signed in asked for, scope on
refresh, a policy turned off, repeated parameters, loopback ports, and rotation."""

from urllib.parse import urlencode

import pytest

from oauth.models import Client
from orgs.models import Role
from tests.factories import make_user
from tokens.models import Token
from tokens.policy import policy_update
from tokens.services import TokenValidationError, token_rotate

from .conftest import REDIRECT, Flow
from .test_flow import mcp_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(acme):
    owner = make_user()
    acme.memberships.create(user=owner, role=Role.OWNER)
    return owner


def test_a_listed_host_beside_another_redirect_uri_does_not_let_the_other_in(flow, acme, owner):
    policy_update(organization=acme, by=owner, oauth_clients="trusted.example")
    flow.register(redirect_uris=["https://trusted.example/cb", REDIRECT])
    page = flow.client.get("/oauth/authorize?" + urlencode(flow.authorize_params()))
    assert "Approve and connect" not in page.content.decode()
    # Approved while the list was empty, then listed: the exchange checks the URI in use.
    policy_update(organization=acme, by=owner, oauth_clients="")
    code = flow.approve(acme)["code"]
    policy_update(organization=acme, by=owner, oauth_clients="trusted.example")
    response = flow.exchange(code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert not Token.objects.filter(client=Token.Client.OAUTH).exists()


def test_nul_bytes_get_oauth_errors_not_500s(flow):
    assert flow.post("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x",
                                      "client_id": "a\x00b"}).status_code == 401  # fmt: skip
    assert flow.post("/oauth/revoke", {"token": "x", "client_id": "a\x00"}).status_code == 401
    flow.client_id = "a\x00b"
    page = flow.client.get("/oauth/authorize?" + urlencode(flow.authorize_params()))
    assert page.status_code == 400
    registered = flow.client.post(
        "/oauth/register",
        '{"redirect_uris": ["https://a.example/\\u0000"]}',
        content_type="application/json",
    )
    assert registered.status_code == 400
    assert registered.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize("challenge", ["A" * 200, "abc", "!" * 43, "é" * 43])
def test_a_challenge_that_is_not_s256_shaped_goes_back_before_anyone_approves(flow, challenge):
    flow.register()
    response = flow.client.get(
        "/oauth/authorize?" + urlencode(flow.authorize_params(code_challenge=challenge))
    )
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]


@pytest.mark.parametrize("verifier", ["a", "short!", "x" * 200, "é" * 50])
def test_a_verifier_out_of_shape_is_refused(flow, acme, verifier):
    flow.register()
    code = flow.approve(acme)["code"]
    response = flow.exchange(code, code_verifier=verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_the_token_endpoint_never_fetches_a_client_document(flow, documents):
    url = documents.document("/anyone.json")
    response = flow.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": "c",
            "client_id": url,
            "code_verifier": "v" * 43,
        },
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert flow.post("/oauth/revoke", {"token": "t", "client_id": url}).status_code == 401
    assert documents.asked == [] and not Client.objects.exists()


def test_a_refresh_keeps_the_approved_scope_and_says_so(flow, acme):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()  # read-only
    body = {"grant_type": "refresh_token", "client_id": flow.client_id}
    narrower = flow.post(
        "/oauth/token", {**body, "refresh_token": tokens["refresh_token"], "scope": "tasks:read"}
    )
    assert narrower.status_code == 400 and narrower.json()["error"] == "invalid_scope"
    same = flow.post(
        "/oauth/token",
        {**body, "refresh_token": tokens["refresh_token"], "scope": "tasks:read projects:read"},
    )
    assert same.status_code == 200
    assert set(same.json()["scope"].split()) == {"projects:read", "tasks:read"}


def test_turning_oauth_off_stops_connections_at_their_next_refresh(flow, acme, owner):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    policy_update(organization=acme, by=owner, allow_oauth_agents=False)
    response = flow.refresh(tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "does not let agents connect with OAuth" in response.json()["error_description"]


@pytest.mark.parametrize("repeated", ["redirect_uri", "client_id", "state"])
def test_a_parameter_sent_twice_is_refused_on_the_page(flow, repeated):
    flow.register()
    params = [*flow.authorize_params().items(), (repeated, "http://127.0.0.1:1/x")]
    response = flow.client.get("/oauth/authorize?" + urlencode(params))
    assert response.status_code == 400 and "Location" not in response


def test_a_token_request_repeating_a_parameter_is_refused(flow):
    flow.register()
    body = "grant_type=refresh_token&grant_type=authorization_code&client_id=" + flow.client_id
    response = flow.client.post(
        "/oauth/token", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_loopback_redirect_uri_may_use_any_port(flow, acme):
    flow.register(redirect_uris=["http://127.0.0.1/callback"])
    answer = flow.approve(acme)  # asks for REDIRECT: 127.0.0.1 on port 33418
    assert flow.exchange(answer["code"]).status_code == 200


def test_a_loopback_port_does_not_stretch_to_other_paths_or_hosts(flow):
    flow.register(redirect_uris=["http://127.0.0.1/callback"])
    for uri in [
        "http://127.0.0.1:9/other",
        "http://localhost:9/callback",
        "https://127.0.0.1:9/callback",
    ]:
        page = flow.client.get(
            "/oauth/authorize?" + urlencode(flow.authorize_params(redirect_uri=uri))
        )
        assert page.status_code == 400, uri


def test_an_oauth_connection_cannot_be_rotated_into_a_token_to_paste(flow, acme, person):
    flow.register()
    flow.exchange(flow.approve(acme)["code"])
    connection = Token.objects.get(owner=person)
    assert not connection.rotatable
    with pytest.raises(TokenValidationError):
        token_rotate(token=connection, by=person)
    page = flow.client.get("/settings/agents/").content.decode()
    assert f"Rotate {connection.name}" not in page


def test_an_expired_access_token_is_refused_without_counting_as_a_failure(flow, acme, settings):
    settings.AUTH_FAILURE_LIMIT_PER_MINUTE = 2
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    Token.objects.update(secret_expires_at=Token.objects.get().created_at)
    statuses = [mcp_call(flow.client, tokens["access_token"]).status_code for _ in range(4)]
    assert statuses == [401] * 4  # never 429


def test_a_second_flow_with_a_registered_client_still_works(client, person, acme):
    from tests.factories import sign_in

    sign_in(client, person)
    flow = Flow(client=client)
    flow.register()
    assert flow.exchange(flow.approve(acme)["code"]).status_code == 200
