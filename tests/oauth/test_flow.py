"""The authorization code flow end to end, through Django's client: approve, exchange, call
/mcp, refresh, revoke."""

import pytest

from audit.models import AuditEvent
from tokens.models import Token

pytestmark = pytest.mark.django_db


def mcp_call(client, access: str, method: str = "tools/list"):
    return client.post(
        "/mcp",
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": {}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {access}", "MCP-Protocol-Version": "2025-11-25"},
    )


def test_an_approved_client_gets_an_agent_connection_that_works_on_mcp_only(flow, acme, person):
    flow.register()
    answer = flow.approve(acme)
    assert answer["state"] == flow.state
    assert answer["iss"] == "http://testserver"
    response = flow.exchange(answer["code"])
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["access_token"].startswith("tsr_agt_")
    assert tokens["refresh_token"].startswith("tsr_rft_")
    assert response["Cache-Control"] == "no-store"

    connection = Token.objects.get(owner=person)
    assert connection.kind == Token.Kind.AGENT and connection.client == Token.Client.OAUTH
    assert connection.audience == "/mcp"
    assert mcp_call(flow.client, tokens["access_token"]).status_code == 200
    api = flow.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert api.status_code == 401
    assert api.json()["type"].endswith("/wrong-audience")
    assert AuditEvent.objects.filter(event="agent.connected", token_id=connection.pk).exists()


def test_a_refresh_replaces_both_tokens_and_a_reused_refresh_token_ends_the_connection(flow, acme):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    refreshed = flow.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    new = refreshed.json()
    assert new["access_token"] != tokens["access_token"]
    assert mcp_call(flow.client, tokens["access_token"]).status_code == 401
    assert mcp_call(flow.client, new["access_token"]).status_code == 200

    replayed = flow.refresh(tokens["refresh_token"])
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    assert "used already" in replayed.json()["error_description"]
    assert mcp_call(flow.client, new["access_token"]).status_code == 401
    assert flow.refresh(new["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_code_works_once(flow, acme):
    flow.register()
    code = flow.approve(acme)["code"]
    first = flow.exchange(code)
    assert first.status_code == 200
    again = flow.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # The second use ends what the first made.
    assert mcp_call(flow.client, first.json()["access_token"]).status_code == 401


def test_the_client_can_revoke_its_connection(flow, acme):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    response = flow.post(
        "/oauth/revoke", {"token": tokens["refresh_token"], "client_id": flow.client_id}
    )
    assert response.status_code == 200
    assert mcp_call(flow.client, tokens["access_token"]).status_code == 401


def test_a_leak_report_of_a_refresh_token_ends_its_connection(flow, acme):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    response = flow.client.post(
        "/api/v1/credentials/revoke",
        {"credentials": [tokens["refresh_token"]]},
        content_type="application/json",
    )
    assert response.status_code == 202
    assert mcp_call(flow.client, tokens["access_token"]).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_oauth_token_is_refused_on_paths_that_merely_start_like_mcp(flow, acme):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    response = flow.client.get(
        "/mcp-elsewhere", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401


def test_connect_refresh_and_revoke_are_audited_with_their_request_ids(flow, acme):
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    tokens = flow.refresh(tokens["refresh_token"]).json()
    flow.post("/oauth/revoke", {"token": tokens["access_token"], "client_id": flow.client_id})
    events = AuditEvent.objects.filter(
        event__in=["agent.connected", "agent.refreshed", "token.revoked"]
    ).order_by("id")
    assert [e.event for e in events] == ["agent.connected", "agent.refreshed", "token.revoked"]
    assert all(len(e.detail["request_id"]) == 32 for e in events)
    assert events[2].detail["by"] == "oauth" and events[2].detail["reason"] == "client"
