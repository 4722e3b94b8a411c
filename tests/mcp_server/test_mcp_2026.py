"""MCP 2026-07-28 on /mcp, through Django's test client: no handshake, each request carries its
version and client in `_meta` and mirrors them in headers; discover, cache hints, errors."""

import json

import pytest

from audit.models import AuditEvent
from orgs.models import Role
from projects.models import Task
from tests.factories import make_project, make_token, mcp_call
from tokens.permissions import READ_ONLY
from tokens.policy import policy_update
from tokens.services import project_token_create

V = "2026-07-28"
VERSION = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"
SUPPORTED = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]


def envelope(version=V, **extra):
    meta = {VERSION: version, CLIENT_INFO: {"name": "t", "version": "1"}, CAPABILITIES: {}}
    return {**meta, **extra}


def modern(client, secret, method, params=None, *, meta=None, headers=None, id=1):
    """A 2026-07-28 request as a conforming client sends it; `meta` and `headers` override."""
    params = dict(params or {})
    params["_meta"] = envelope() if meta is None else meta
    sent = {"HTTP_MCP_PROTOCOL_VERSION": V, "HTTP_MCP_METHOD": method}
    if method == "tools/call":
        sent["HTTP_MCP_NAME"] = params.get("name", "")
    sent.update(headers or {})
    sent = {key: value for key, value in sent.items() if value is not None}
    return mcp_call(client, secret, method, params, id=id, headers=sent)


@pytest.fixture
def agent(user, org):
    return make_token(owner=user, organization=org, kind="agt")[1]


def test_discover_answers_the_versions_capabilities_identity_and_instructions(client, agent):
    response = modern(client, agent, "server/discover")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    result = response.json()["result"]
    assert result["supportedVersions"] == SUPPORTED
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "tessera"
    assert result["_meta"][SERVER_INFO] == {
        "name": "tessera",
        "title": "Tessera",
        "version": "1.0.0",
    }
    assert "ada@example.com in the organization Acme" in result["instructions"]
    assert result["resultType"] == "complete"
    # The instructions name the token's owner: only that token's own cache may keep them.
    assert result["ttlMs"] == 3_600_000 and result["cacheScope"] == "private"


def test_discover_describes_a_project_token_as_one(client, user, org, project):
    secret = project_token_create(
        project=project, by=user, name="CI", scopes=["tasks:read"], expires_at=None
    )[1]
    result = modern(client, secret, "server/discover").json()["result"]
    assert "a project token of the organization Acme" in result["instructions"]


def test_tools_list_is_cacheable_by_any_cache_and_the_same_tools_as_the_handshake_eras(
    client, agent
):
    result = modern(client, agent, "tools/list").json()["result"]
    assert result["ttlMs"] == 3_600_000 and result["cacheScope"] == "public"
    assert result["resultType"] == "complete" and result["_meta"][SERVER_INFO]["name"] == "tessera"
    legacy = mcp_call(client, agent, "tools/list").json()["result"]
    assert result["tools"] == legacy["tools"] and len(legacy["tools"]) == 5
    assert set(legacy) == {"tools"}  # no 2026 fields for the older eras


def call(client, secret, name, arguments=None, **kwargs):
    response = modern(client, secret, "tools/call", {"name": name, "arguments": arguments or {}})
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["resultType"] == "complete" and result["_meta"][SERVER_INFO]["name"] == "tessera"
    return result


def test_every_tool_works_in_2026_07_28_mode_and_writes_are_audited(client, user, org, project):
    secret = make_token(owner=user, organization=org, kind="agt")[1]
    listed = call(client, secret, "list_projects")
    assert listed["isError"] is False
    assert listed["structuredContent"]["projects"][0]["name"] == "Website"
    created = call(client, secret, "create_task", {"project_id": project.pk, "title": "Modern"})
    task_id = created["structuredContent"]["id"]
    assert Task.objects.get(pk=task_id).created_by == user
    updated = call(client, secret, "update_task", {"task_id": task_id, "status": "done"})
    assert updated["structuredContent"]["status"] == "done"
    got = call(client, secret, "get_task", {"task_id": task_id})
    assert got["structuredContent"]["title"] == "Modern"
    tasks = call(client, secret, "list_tasks", {"project_id": project.pk, "status": "done"})
    assert [t["id"] for t in tasks["structuredContent"]["tasks"]] == [task_id]
    assert json.loads(tasks["content"][0]["text"]) == tasks["structuredContent"]
    actions = AuditEvent.objects.filter(event="mcp.write").values_list("action", flat=True)
    assert sorted(actions) == ["tool create_task", "tool update_task"]


def test_a_tool_refusal_in_2026_07_28_mode_is_still_a_tool_error(client, user, org, project):
    secret = make_token(owner=user, organization=org, kind="agt", scopes=READ_ONLY)[1]
    refused = call(client, secret, "create_task", {"project_id": project.pk, "title": "no"})
    assert refused["isError"] is True and "tasks:write" in refused["content"][0]["text"]
    assert not Task.objects.exists()


def test_paging_cursors_work_in_2026_07_28_mode(client, agent, project):
    Task.objects.bulk_create(Task(project=project, title=f"Task {n}") for n in range(201))
    first = call(client, agent, "list_tasks", {"project_id": project.pk})["structuredContent"]
    cursor = first["nextCursor"]
    rest = call(client, agent, "list_tasks", {"project_id": project.pk, "cursor": cursor})
    assert len(first["tasks"]) == 200 and len(rest["structuredContent"]["tasks"]) == 1
    assert "nextCursor" not in rest["structuredContent"]


def error_of(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["error"]["code"] == code, body
    return body


@pytest.mark.parametrize("method", ["server/discover", "tools/list", "tools/call"])
def test_an_unknown_version_is_a_400_naming_every_supported_version(client, agent, method):
    unknown = "2099-01-01"
    response = modern(
        client, agent, method, {"name": "list_projects"},
        meta=envelope(unknown), headers={"HTTP_MCP_PROTOCOL_VERSION": unknown}, id="u-1",
    )  # fmt: skip
    body = error_of(response, 400, -32022)
    assert body["id"] == "u-1"
    assert body["error"]["data"] == {"supported": SUPPORTED, "requested": unknown}
    assert "supported: 2026-07-28, 2025-11-25, 2025-06-18" in body["error"]["message"]


@pytest.mark.parametrize("method", ["server/discover", "tools/list", "tools/call"])
def test_a_handshake_era_version_in_meta_is_told_the_per_request_versions(client, agent, method):
    response = modern(
        client, agent, method, {"name": "list_projects"},
        meta=envelope("2025-11-25"), headers={"HTTP_MCP_PROTOCOL_VERSION": None},
    )  # fmt: skip
    body = error_of(response, 400, -32022)
    assert body["error"]["data"] == {"supported": [V], "requested": "2025-11-25"}


@pytest.mark.parametrize("method", ["server/discover", "tools/list", "tools/call"])
def test_a_2026_request_without_its_version_header_is_a_header_mismatch(client, agent, method):
    response = modern(
        client, agent, method, {"name": "list_projects"},
        headers={"HTTP_MCP_PROTOCOL_VERSION": None},
    )  # fmt: skip
    body = error_of(response, 400, -32020)
    assert "MCP-Protocol-Version header must be '2026-07-28'" in body["error"]["message"]


@pytest.mark.parametrize("method", ["server/discover", "tools/list", "tools/call"])
def test_a_2026_request_without_its_meta_envelope_is_invalid_params(client, agent, method):
    response = modern(client, agent, method, {"name": "list_projects"}, meta={})
    body = error_of(response, 400, -32602)
    assert VERSION in body["error"]["message"] and CAPABILITIES in body["error"]["message"]
    assert "start with initialize" in body["error"]["message"]


def test_a_bare_server_discover_is_told_what_it_must_carry(client, agent):
    body = error_of(mcp_call(client, agent, "server/discover"), 400, -32602)
    assert "params._meta" in body["error"]["message"]


def test_a_handshake_version_header_with_a_2026_envelope_is_a_header_mismatch(client, agent):
    response = modern(
        client, agent, "tools/list", headers={"HTTP_MCP_PROTOCOL_VERSION": "2025-11-25"}
    )
    error_of(response, 400, -32020)


@pytest.mark.parametrize(
    ("method", "removed"), [("initialize", True), ("ping", True), ("resources/list", False)]
)
def test_methods_2026_07_28_does_not_define_are_404_method_not_found(
    client, agent, method, removed
):
    body = error_of(modern(client, agent, method), 404, -32601)
    assert ("has no " + method in body["error"]["message"]) is removed


def test_a_mismatched_mcp_method_header_is_refused(client, agent):
    response = modern(client, agent, "tools/list", headers={"HTTP_MCP_METHOD": "tools/call"})
    assert "Mcp-Method" in error_of(response, 400, -32020)["error"]["message"]
    missing = modern(client, agent, "tools/list", headers={"HTTP_MCP_METHOD": None})
    error_of(missing, 400, -32020)


def test_the_mcp_name_header_must_name_the_tool_plain_or_base64(client, agent):
    params = {"name": "list_projects", "arguments": {}}
    wrong = modern(client, agent, "tools/call", params, headers={"HTTP_MCP_NAME": "get_task"})
    assert "Mcp-Name" in error_of(wrong, 400, -32020)["error"]["message"]
    error_of(
        modern(client, agent, "tools/call", params, headers={"HTTP_MCP_NAME": None}), 400, -32020
    )
    wrapped = "=?base64?bGlzdF9wcm9qZWN0cw==?="  # list_projects
    ok = modern(client, agent, "tools/call", params, headers={"HTTP_MCP_NAME": wrapped})
    assert ok.status_code == 200 and ok.json()["result"]["isError"] is False
    damaged = modern(client, agent, "tools/call", params, headers={"HTTP_MCP_NAME": "=?base64?%?="})
    error_of(damaged, 400, -32020)


@pytest.mark.parametrize(
    ("meta", "complaint"),
    [
        (envelope(**{CAPABILITIES: []}), CAPABILITIES),
        (envelope(**{CLIENT_INFO: "t/1"}), CLIENT_INFO),
        (envelope(**{CLIENT_INFO: {"name": "t"}}), CLIENT_INFO),
        (envelope(**{VERSION: 20260728}), VERSION),
    ],
)
def test_a_malformed_meta_envelope_is_invalid_params_saying_which_key(
    client, agent, meta, complaint
):
    body = error_of(modern(client, agent, "tools/list", meta=meta), 400, -32602)
    assert complaint in body["error"]["message"]


def test_client_info_is_optional_and_other_meta_keys_are_left_alone(client, agent):
    meta = {VERSION: V, CAPABILITIES: {"extensions": {}}, "progressToken": 7}
    response = modern(client, agent, "tools/list", meta=meta)
    assert response.status_code == 200 and len(response.json()["result"]["tools"]) == 5


def test_an_unknown_tool_is_invalid_params_with_a_400_in_2026_07_28_mode(client, agent):
    response = modern(client, agent, "tools/call", {"name": "drop_tables"})
    assert "Unknown tool" in error_of(response, 400, -32602)["error"]["message"]


def test_2026_notifications_are_202_and_an_unknown_version_on_one_is_a_400(client, agent):
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    accepted = mcp_call(client, agent, raw=note, headers={"HTTP_MCP_PROTOCOL_VERSION": V})
    assert accepted.status_code == 202 and accepted.content == b""
    refused = mcp_call(client, agent, raw=note, headers={"HTTP_MCP_PROTOCOL_VERSION": "2099-01-01"})
    error_of(refused, 400, -32022)


def test_refusals_before_the_protocol_look_the_same_in_2026_07_28_mode(client, user, org):
    _pat, secret = make_token(owner=user, organization=org)
    policy_update(organization=org, by=user, require_agent_connections=True)
    refused = modern(client, secret, "server/discover", id="d-1")
    assert refused.status_code == 403 and refused.json()["id"] == "d-1"
    assert refused.json()["error"]["data"]["type"].endswith("/agent-connection-required")
    unauthenticated = modern(client, "tsr_agt_nope", "tools/list")
    assert unauthenticated.status_code == 401 and "WWW-Authenticate" in unauthenticated
    foreign = modern(client, secret, "tools/list", headers={"HTTP_ORIGIN": "https://evil.example"})
    assert foreign.status_code == 403


def test_the_role_ceiling_holds_in_2026_07_28_mode(client, user, org, project):
    secret = make_token(owner=user, organization=org, kind="agt")[1]
    org.memberships.filter(user=user).update(role=Role.VIEWER)
    other = make_project(organization=org, name="Other")
    refused = call(client, secret, "create_task", {"project_id": other.pk, "title": "nope"})
    assert refused["isError"] is True and "(viewer)" in refused["content"][0]["text"]
