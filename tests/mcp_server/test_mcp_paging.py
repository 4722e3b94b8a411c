"""The listing tools page through everything in MCP's cursor shape: 200 at a time, with
`nextCursor` while more remain, instead of stopping silently at the 200th item."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mcp_server.tools import PAGE_SIZE
from projects.models import Project, Task
from tests.factories import make_token, mcp_call


@pytest.fixture
def agent(user, org):
    return make_token(owner=user, organization=org, kind="agt")[1]


def call(client, secret, name, arguments):
    response = mcp_call(client, secret, "tools/call", {"name": name, "arguments": arguments})
    assert response.status_code == 200, response.content
    return response.json()["result"]


def every_page(client, secret, name, arguments, key):
    pages, cursor = [], None
    while True:
        result = call(client, secret, name, {**arguments, **({"cursor": cursor} if cursor else {})})
        assert not result["isError"], result
        content = result["structuredContent"]
        assert json.loads(result["content"][0]["text"]) == content
        pages.append(content[key])
        cursor = content.get("nextCursor")
        if cursor is None:
            return pages
        assert isinstance(cursor, str) and cursor


def test_450_tasks_come_in_three_pages_none_lost(client, agent, project):
    Task.objects.bulk_create(Task(project=project, title=f"Task {n}") for n in range(450))
    pages = every_page(client, agent, "list_tasks", {"project_id": project.pk}, "tasks")
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 50]
    ids = [task["id"] for page in pages for task in page]
    assert ids == list(project.tasks.order_by("id").values_list("id", flat=True))


def test_a_page_costs_the_same_queries_wherever_it_is(client, agent, project):
    Task.objects.bulk_create(Task(project=project, title=f"Task {n}") for n in range(450))
    first = call(client, agent, "list_tasks", {"project_id": project.pk})["structuredContent"]
    arguments = {"project_id": project.pk, "cursor": first["nextCursor"]}
    second = call(client, agent, "list_tasks", arguments)["structuredContent"]
    with CaptureQueriesContext(connection) as at_first:
        call(client, agent, "list_tasks", {"project_id": project.pk})
    with CaptureQueriesContext(connection) as further:
        call(
            client, agent, "list_tasks", {"project_id": project.pk, "cursor": second["nextCursor"]}
        )
    assert len(further) == len(at_first)


def test_the_status_filter_holds_across_pages(client, agent, project):
    Task.objects.bulk_create(
        Task(project=project, title=f"Task {n}", status="done" if n % 2 else "todo")
        for n in range(450)
    )
    arguments = {"project_id": project.pk, "status": "done"}
    pages = every_page(client, agent, "list_tasks", arguments, "tasks")
    assert [len(page) for page in pages] == [PAGE_SIZE, 25]
    assert {task["status"] for page in pages for task in page} == {"done"}


def test_projects_page_by_name_even_when_names_repeat(client, agent, org):
    Project.objects.bulk_create(
        Project(organization=org, name=f"Project {n % 7}") for n in range(230)
    )
    pages = every_page(client, agent, "list_projects", {}, "projects")
    assert [len(page) for page in pages] == [PAGE_SIZE, 30]
    seen = [(p["name"], p["id"]) for page in pages for p in page]
    assert seen == sorted(seen) and len(set(seen)) == 230


def test_a_short_list_has_no_next_cursor(client, agent, project):
    result = call(client, agent, "list_tasks", {"project_id": project.pk})["structuredContent"]
    assert result == {"project_id": project.pk, "tasks": []}
    assert "nextCursor" not in call(client, agent, "list_projects", {})["structuredContent"]


@pytest.mark.parametrize("cursor", ["nonsense", "", "!!!", "W10", "eyJ4IjoxfQ", "é"])
def test_a_bad_cursor_is_a_clear_tool_error(client, agent, project, cursor):
    result = call(client, agent, "list_tasks", {"project_id": project.pk, "cursor": cursor})
    assert result["isError"] is True
    assert "cursor" in result["content"][0]["text"]


def test_a_cursor_from_another_tool_or_of_another_type_is_refused(client, agent, org, project):
    Project.objects.bulk_create(Project(organization=org, name=f"P{n}") for n in range(210))
    cursor = call(client, agent, "list_projects", {})["structuredContent"]["nextCursor"]
    result = call(client, agent, "list_tasks", {"project_id": project.pk, "cursor": cursor})
    assert (
        result["isError"] is True and "not a cursor from list_tasks" in result["content"][0]["text"]
    )
    wrong_type = call(client, agent, "list_projects", {"cursor": 5})
    assert wrong_type["isError"] is True and "cursor" in wrong_type["content"][0]["text"]


def test_the_listing_tools_declare_cursor_and_next_cursor(client, agent):
    tools = {t["name"]: t for t in mcp_call(client, agent, "tools/list").json()["result"]["tools"]}
    for name, key in [("list_projects", "projects"), ("list_tasks", "tasks")]:
        tool = tools[name]
        assert tool["inputSchema"]["properties"]["cursor"]["anyOf"][0]["type"] == "string"
        assert "cursor" not in tool["inputSchema"].get("required", [])
        output = tool["outputSchema"]
        assert output["type"] == "object" and key in output["required"]
        assert output["properties"]["nextCursor"] == {
            "description": "Present when more remain: pass it as cursor to get the next page.",
            "title": "Nextcursor",
            "type": "string",
        }
        assert "nextCursor" not in output["required"]
