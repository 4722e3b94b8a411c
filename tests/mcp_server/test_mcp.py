"""The MCP endpoint's protocol details, through Django's test client."""

import json

import pytest

from orgs.models import Role
from projects.models import Task
from tests.factories import bearer, make_project, make_token, mcp_call
from tokens.permissions import READ_ONLY

MCP = "/mcp"


@pytest.fixture
def agent(user, org):
    return make_token(owner=user, organization=org, kind="agt")[1]


def test_initialize_negotiates_the_version_and_describes_the_server(client, agent):
    response = mcp_call(
        client,
        agent,
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    result = response.json()["result"]
    assert result["protocolVersion"] == "2025-06-18"
    assert result["serverInfo"]["name"] == "tessera"
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    unknown = mcp_call(client, agent, "initialize", {"protocolVersion": "1999-01-01"}).json()
    assert unknown["result"]["protocolVersion"] == "2025-11-25"


def test_notifications_and_client_responses_get_202_with_no_body(client, agent):
    note = mcp_call(client, agent, raw={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert note.status_code == 202 and note.content == b""
    answer = mcp_call(client, agent, raw={"jsonrpc": "2.0", "id": 9, "result": {}})
    assert answer.status_code == 202 and answer.content == b""


def test_ping_and_tools_list(client, agent):
    assert mcp_call(client, agent, "ping").json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    tools = mcp_call(client, agent, "tools/list").json()["result"]["tools"]
    assert [t["name"] for t in tools] == [
        "list_projects",
        "list_tasks",
        "get_task",
        "create_task",
        "update_task",
    ]
    create = next(t for t in tools if t["name"] == "create_task")
    assert create["inputSchema"]["type"] == "object"
    assert set(create["inputSchema"]["required"]) == {"project_id", "title"}
    assert create["description"] and create["annotations"]["readOnlyHint"] is False


@pytest.mark.parametrize("method", ["resources/list", "nope"])
def test_unknown_methods_are_method_not_found(client, agent, method):
    body = mcp_call(client, agent, method, id="abc").json()
    assert body == {
        "jsonrpc": "2.0",
        "id": "abc",
        "error": {"code": -32601, "message": f"Method not found: {method}"},
    }


def test_server_discover_is_method_not_found_for_a_handshake_era_client(client, agent):
    response = mcp_call(
        client, agent, "server/discover", headers={"HTTP_MCP_PROTOCOL_VERSION": "2025-11-25"}
    )
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["code"] == -32601 and "belongs to protocol 2026-07-28" in error["message"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", -32700),
        ("[]", -32600),
        ('{"jsonrpc": "1.0", "id": 1, "method": "ping"}', -32600),
        ('{"jsonrpc": "2.0", "id": null, "method": "ping"}', -32600),
        ('{"jsonrpc": "2.0", "id": 1, "method": 7}', -32600),
    ],
)
def test_malformed_json_rpc_gets_the_json_rpc_error_codes(client, agent, raw, code):
    response = mcp_call(client, agent, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_bad_params_are_invalid_params(client, agent):
    assert mcp_call(client, agent, "tools/call", []).json()["error"]["code"] == -32602
    unknown_tool = mcp_call(client, agent, "tools/call", {"name": "drop_tables"}).json()
    assert unknown_tool["error"]["code"] == -32602


def test_an_unsupported_protocol_version_header_is_a_400(client, agent):
    response = mcp_call(client, agent, "ping", headers={"HTTP_MCP_PROTOCOL_VERSION": "2099-01-01"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022 and "2026-07-28, 2025-11-25" in error["message"]
    ok = mcp_call(client, agent, "ping", headers={"HTTP_MCP_PROTOCOL_VERSION": "2025-11-25"})
    assert ok.status_code == 200


def test_get_and_delete_are_405(client, agent):
    for method in (client.get, client.delete):
        response = method(MCP, **bearer(agent))
        assert response.status_code == 405 and response["Allow"] == "POST"


def test_a_foreign_origin_is_403_and_the_sites_own_is_fine(client, agent):
    foreign = mcp_call(client, agent, "ping", headers={"HTTP_ORIGIN": "https://evil.example"})
    assert foreign.status_code == 403
    own = mcp_call(client, agent, "ping", headers={"HTTP_ORIGIN": "http://testserver"})
    assert own.status_code == 200


def test_no_token_is_401_with_a_bearer_challenge(client, db):
    response = client.post(
        MCP, '{"jsonrpc": "2.0", "id": 1, "method": "ping"}', content_type="application/json"
    )
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code without a token; RFC 9728 §5.1: where to find authorization.
    assert response["WWW-Authenticate"] == (
        'Bearer realm="tessera", '
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
    )
    bad = client.post(MCP, "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 401 and 'error="invalid_token"' in bad["WWW-Authenticate"]


def test_a_refusal_is_a_json_rpc_error_that_says_why(client, user, org):
    from tokens.models import Token
    from tokens.services import token_revoke

    token, secret = make_token(owner=user, organization=org, kind="agt")
    token_revoke(token=Token.objects.get(pk=token.pk), by=user)
    response = mcp_call(client, secret, "tools/list")
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert 'error_description="The access token was revoked."' in response["WWW-Authenticate"]
    error = response.json()["error"]
    assert error["message"] == "The access token was revoked."
    assert error["data"] == {
        "status": 401,
        "type": "http://testserver/api/v1/problems/token-revoked",
        "error": "invalid_token",
        "error_description": "The access token was revoked.",
    }
    assert response.json()["jsonrpc"] == "2.0" and error["code"] == -32001


def test_an_origin_in_cors_allowed_origins_may_call(client, agent, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    allowed = mcp_call(client, agent, "ping", headers={"HTTP_ORIGIN": "https://app.example.com"})
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/anything-else"]
)
def test_other_well_known_names_are_json_404s(client, db, path):
    # Clients probe OpenID discovery too; Tessera's authorization server is RFC 8414's.
    response = client.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def call(client, secret, name, arguments=None):
    result = mcp_call(
        client, secret, "tools/call", {"name": name, "arguments": arguments or {}}
    ).json()
    return result["result"]


def test_every_tool_works_for_a_read_write_token(client, user, org, project):
    secret = make_token(owner=user, organization=org, kind="agt")[1]
    listed = call(client, secret, "list_projects")
    assert listed["isError"] is False
    assert listed["structuredContent"]["projects"][0]["name"] == "Website"
    created = call(
        client, secret, "create_task", {"project_id": project.pk, "title": "From the agent"}
    )
    task_id = created["structuredContent"]["id"]
    assert Task.objects.get(pk=task_id).created_by == user
    updated = call(client, secret, "update_task", {"task_id": task_id, "status": "done"})
    assert updated["structuredContent"]["status"] == "done"
    assert (
        call(client, secret, "get_task", {"task_id": task_id})["structuredContent"]["title"]
        == "From the agent"
    )
    tasks = call(client, secret, "list_tasks", {"project_id": project.pk, "status": "done"})
    assert [t["id"] for t in tasks["structuredContent"]["tasks"]] == [task_id]
    assert json.loads(tasks["content"][0]["text"]) == tasks["structuredContent"]


def test_a_read_only_agent_is_refused_writes_with_the_missing_scope(client, user, org, project):
    secret = make_token(owner=user, organization=org, kind="agt", scopes=READ_ONLY)[1]
    refused = call(client, secret, "create_task", {"project_id": project.pk, "title": "nope"})
    assert refused["isError"] is True
    assert "tasks:write" in refused["content"][0]["text"]
    assert not Task.objects.exists()


@pytest.mark.parametrize("title", ["Pay\nthe invoice", "report\u202efdp.exe"])
def test_a_task_title_on_more_than_one_line_or_with_invisible_characters_is_refused(
    client, user, org, project, title
):
    secret = make_token(owner=user, organization=org, kind="agt")[1]
    refused = call(client, secret, "create_task", {"project_id": project.pk, "title": title})
    assert refused["isError"] is True and "plain text on one line" in refused["content"][0]["text"]
    assert not Task.objects.exists()


def test_the_role_ceiling_applies_to_tools(client, user, org, project):
    secret = make_token(owner=user, organization=org, kind="agt")[1]
    org.memberships.filter(user=user).update(role=Role.VIEWER)
    refused = call(client, secret, "create_task", {"project_id": project.pk, "title": "nope"})
    assert refused["isError"] is True and "(viewer)" in refused["content"][0]["text"]


def test_project_restriction_applies_to_tools(client, user, org, project):
    other = make_project(organization=org, name="Secret")
    secret = make_token(owner=user, organization=org, kind="agt", projects=[project])[1]
    names = [
        p["name"] for p in call(client, secret, "list_projects")["structuredContent"]["projects"]
    ]
    assert names == ["Website"]
    hidden = call(client, secret, "list_tasks", {"project_id": other.pk})
    assert hidden["isError"] is True and "within this token's reach" in hidden["content"][0]["text"]


def test_invalid_tool_arguments_are_a_tool_error(client, agent, project):
    result = call(client, agent, "create_task", {"project_id": project.pk, "title": "", "extra": 1})
    assert result["isError"] is True
    assert "Invalid arguments" in result["content"][0]["text"]


def test_a_personal_token_works_on_mcp_too(client, user, org):
    secret = make_token(owner=user, organization=org)[1]
    assert call(client, secret, "list_projects")["isError"] is False
