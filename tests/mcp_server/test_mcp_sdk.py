"""The official MCP Python SDK as a real third-party client, over real HTTP, against a live server.

The SDK speaks both eras: pinned to 2026-07-28 (per-request `_meta`, no handshake), in 'legacy'
mode (the `initialize` handshake), and in its default 'auto' mode, which probes `server/discover`
and adopts what it answers. Each of them lists and calls every tool here; the wire is recorded,
so the tests see the headers and fields each era sends and answers.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation

from orgs.models import Role
from projects.models import Task
from tests.factories import make_org, make_project, make_token, make_user
from tokens.permissions import READ_ONLY
from tokens.services import token_revoke

pytestmark = pytest.mark.django_db(transaction=True)


def leaves(error: BaseException) -> list[BaseException]:
    """The errors inside (nested) exception groups, as the SDK raises them from task groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


CLIENT = Implementation(name="tessera-tests", version="0.1")


def run(url: str, secret: str, steps, statuses: list | None = None, *, mode="auto", wire=None):
    """Runs `steps(client)` with the SDK in `mode`; `wire` collects (request headers, request
    body, status, response body) for every POST."""

    async def record(response):
        if statuses is not None:
            statuses.append(response.status_code)
        if wire is not None:
            await response.aread()
            answer = json.loads(response.content) if response.content else None
            sent = json.loads(response.request.content)
            wire.append((response.request.headers, sent, response.status_code, answer))

    async def main():
        headers = {"Authorization": f"Bearer {secret}"}
        hooks = {"response": [record]}
        async with httpx2.AsyncClient(headers=headers, timeout=15, event_hooks=hooks) as http:
            transport = streamable_http_client(url, http_client=http, terminate_on_close=False)
            async with Client(transport, mode=mode, client_info=CLIENT) as client:
                return await steps(client)

    # A thread of its own: Playwright's sync API keeps an event loop running in the main thread
    # once a browser test has run in this process, and asyncio.run() refuses to nest in it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@pytest.fixture
def world(live_server):
    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    project = make_project(organization=org, name="Website")
    task = Task.objects.create(project=project, title="Existing")
    _, read_write = make_token(owner=owner, organization=org, kind="agt")
    _, read_only = make_token(owner=owner, organization=org, kind="agt", scopes=READ_ONLY)
    return {
        "url": f"{live_server.url}/mcp",
        "project": project,
        "task": task,
        "read_write": read_write,
        "read_only": read_only,
        "owner": owner,
    }


def every_tool(world):
    project_id, task_id = world["project"].pk, world["task"].pk

    async def steps(client):
        tools = await client.list_tools()
        again = await client.list_tools()
        results = {
            "list_projects": await client.call_tool("list_projects", {}),
            "list_tasks": await client.call_tool("list_tasks", {"project_id": project_id}),
            "get_task": await client.call_tool("get_task", {"task_id": task_id}),
            "create_task": await client.call_tool(
                "create_task", {"project_id": project_id, "title": "Written by an agent"}
            ),
            "update_task": await client.call_tool(
                "update_task", {"task_id": task_id, "status": "done"}
            ),
        }
        return client.protocol_version, client.server_info, tools, again, results

    return steps


def assert_every_tool_worked(world, tools, results):
    assert sorted(tool.name for tool in tools.tools) == sorted(results)
    assert all(not result.is_error for result in results.values())
    assert results["list_projects"].structured_content["projects"][0]["name"] == "Website"
    assert results["list_tasks"].structured_content["tasks"][0]["title"] == "Existing"
    assert results["get_task"].structured_content["title"] == "Existing"
    assert results["update_task"].structured_content["status"] == "done"
    assert Task.objects.filter(title="Written by an agent", created_by=world["owner"]).exists()
    world["task"].refresh_from_db()
    assert world["task"].status == "done"


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
def test_the_sdk_in_2026_07_28_mode_lists_and_calls_every_tool_without_a_handshake(world, mode):
    wire: list = []
    version, server_info, tools, again, results = run(
        world["url"], world["read_write"], every_tool(world), mode=mode, wire=wire
    )
    assert version == "2026-07-28"
    assert_every_tool_worked(world, tools, results)
    assert tools.ttl_ms == 3_600_000 and tools.cache_scope == "public"
    assert again.tools == tools.tools
    methods = [sent["method"] for _, sent, _, _ in wire]
    assert "initialize" not in methods and "notifications/initialized" not in methods
    # The second listing came from the SDK's cache, as the answer's ttlMs allowed.
    assert methods.count("tools/list") == 1 and methods.count("tools/call") == 5
    if mode == "auto":
        assert methods[0] == "server/discover"
        assert server_info is not None and server_info.name == "tessera"
    for headers, sent, status, answer in wire:
        assert status == 200, answer
        assert headers["mcp-protocol-version"] == "2026-07-28"
        assert headers["mcp-method"] == sent["method"]
        meta = sent["params"]["_meta"]
        assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
        assert meta["io.modelcontextprotocol/clientInfo"]["name"] == "tessera-tests"
        assert answer["result"]["resultType"] == "complete"
        assert answer["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "tessera"


def test_the_sdk_in_legacy_mode_initializes_then_lists_and_calls_every_tool(world):
    wire: list = []
    version, server_info, tools, _, results = run(
        world["url"], world["read_write"], every_tool(world), mode="legacy", wire=wire
    )
    assert version == "2025-11-25"
    assert server_info is not None and server_info.name == "tessera"
    assert_every_tool_worked(world, tools, results)
    methods = [sent["method"] for _, sent, _, _ in wire]
    assert methods[:2] == ["initialize", "notifications/initialized"]
    assert "server/discover" not in methods and methods.count("tools/call") == 5
    for headers, sent, status, answer in wire[1:]:
        assert status in (200, 202) and headers["mcp-protocol-version"] == "2025-11-25"
        assert "_meta" not in sent.get("params", {})
        if answer is not None:
            assert "resultType" not in answer["result"] and "ttlMs" not in answer["result"]


def test_a_read_only_agent_sees_a_refusal_naming_the_scope(world):
    async def steps(client):
        return await client.call_tool(
            "create_task", {"project_id": world["project"].pk, "title": "no"}
        )

    result = run(world["url"], world["read_only"], steps)
    assert result.is_error
    assert "tasks:write" in result.content[0].text
    assert not Task.objects.filter(title="no").exists()


def test_a_revoked_token_is_refused(world):
    from tokens import codec
    from tokens.models import Token

    async def steps(client):
        return await client.call_tool("list_projects", {})

    assert not run(world["url"], world["read_write"], steps).is_error
    token_revoke(
        token=Token.objects.get(digest=codec.digest(world["read_write"])), by=world["owner"]
    )
    statuses = []
    with pytest.raises(Exception) as refused:
        run(world["url"], world["read_write"], steps, statuses)
    assert statuses and set(statuses) == {401}
    # The 401's body is a JSON-RPC error, so the SDK reports why instead of a generic failure.
    messages = " ".join(str(error) for error in leaves(refused.value))
    assert "The access token was revoked." in messages, messages


def test_the_sdk_pages_through_450_tasks_with_next_cursor(world):
    project = world["project"]
    Task.objects.bulk_create(Task(project=project, title=f"Task {n}") for n in range(449))

    async def steps(client):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        pages, arguments = [], {"project_id": project.pk}
        while True:
            # The SDK checks each answer against the tool's outputSchema.
            result = await client.call_tool("list_tasks", arguments)
            assert not result.is_error, result
            pages.append(result.structured_content["tasks"])
            cursor = result.structured_content.get("nextCursor")
            if cursor is None:
                return tools, pages
            arguments = {"project_id": project.pk, "cursor": cursor}

    tools, pages = run(world["url"], world["read_write"], steps)
    assert "nextCursor" in tools["list_tasks"].output_schema["properties"]
    assert "cursor" in tools["list_tasks"].input_schema["properties"]
    assert [len(page) for page in pages] == [200, 200, 50]
    assert len({task["id"] for page in pages for task in page}) == 450
