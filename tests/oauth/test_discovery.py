"""How an MCP client finds the authorization server: the 401 from /mcp names the resource's
metadata (RFC 9728), which names Tessera, whose metadata (RFC 8414) says what it supports."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_401_from_mcp_names_the_resource_metadata(client):
    response = client.post("/mcp", {}, content_type="application/json")
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert (
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
        in challenge
    )


def test_a_bad_token_on_mcp_also_names_it_next_to_the_rfc_6750_error(client):
    response = client.post(
        "/mcp", {}, content_type="application/json", headers={"Authorization": "Bearer nope"}
    )
    challenge = response["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge and "resource_metadata=" in challenge


def test_the_api_s_challenge_names_no_resource_metadata(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and "resource_metadata" not in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
def test_the_protected_resource_metadata_names_mcp_and_tessera(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body["resource"] == "http://testserver/mcp"
    assert body["authorization_servers"] == ["http://testserver"]
    assert body["bearer_methods_supported"] == ["header"]
    assert "tasks:read" in body["scopes_supported"]


def test_the_authorization_server_metadata_says_what_the_server_does(client):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == "http://testserver"
    assert body["authorization_endpoint"] == "http://testserver/oauth/authorize"
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["registration_endpoint"] == "http://testserver/oauth/register"
    assert body["revocation_endpoint"] == "http://testserver/oauth/revoke"
    assert body["response_types_supported"] == ["code"]
    assert sorted(body["grant_types_supported"]) == ["authorization_code", "refresh_token"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["token_endpoint_auth_methods_supported"] == ["none"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["client_id_metadata_document_supported"] is True


def test_the_metadata_is_the_same_with_the_resource_path_appended(client):
    plain = client.get("/.well-known/oauth-authorization-server").json()
    assert client.get("/.well-known/oauth-authorization-server/mcp").json() == plain


def test_a_preflight_from_a_browser_client_is_answered(client):
    response = client.options(
        "/oauth/token",
        headers={"Origin": "http://localhost:6274", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
