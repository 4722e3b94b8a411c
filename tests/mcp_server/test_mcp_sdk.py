"""The official MCP Python SDK as a real third-party client, over real HTTP, against a live server.

In its default 'auto' mode the SDK first probes `server/discover` (the post-2025 handshake) and
falls back to `initialize` on our -32601, so this also checks that newer clients can connect.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

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


def run(url: str, secret: str, steps, statuses: list | None = None):
    async def record(response):
        if statuses is not None:
            statuses.append(response.status_code)

    async def main():
        headers = {"Authorization": f"Bearer {secret}"}
        hooks = {"response": [record]}
        async with httpx2.AsyncClient(headers=headers, timeout=15, event_hooks=hooks) as http:
            transport = streamable_http_client(url, http_client=http, terminate_on_close=False)
            async with Client(transport) as client:
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


def test_the_sdk_connects_lists_and_calls_every_tool(world):
    project_id, task_id = world["project"].pk, world["task"].pk

    async def steps(client):
        tools = await client.list_tools()
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
        return client.session.initialize_result, tools, results

    initialized, tools, results = run(world["url"], world["read_write"], steps)
    assert initialized.server_info.name == "tessera"
    assert initialized.protocol_version == "2025-11-25"
    assert sorted(tool.name for tool in tools.tools) == sorted(results)
    assert all(not result.is_error for result in results.values())
    assert results["list_projects"].structured_content["projects"][0]["name"] == "Website"
    assert results["get_task"].structured_content["title"] == "Existing"
    assert Task.objects.filter(title="Written by an agent", created_by=world["owner"]).exists()
    world["task"].refresh_from_db()
    assert world["task"].status == "done"


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
