"""The MCP tools: the same permission checks, services and schemas as the JSON API, so a tool
can do exactly what the same token could over REST and answers with the same JSON."""

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from core.forms import MAX_ID
from projects import services
from projects.schemas import (
    ProjectOut,
    TaskOut,
    TaskStatus,
    TaskText,
    TaskTitle,
    project_data,
    task_data,
)
from tokens.permissions import (
    TASKS_WRITE,
    InsufficientScope,
    project_for,
    projects_for,
    task_for,
    tasks_for,
)

from . import cursors

PAGE_SIZE = 200  # items per page of a listing tool; `nextCursor` leads to the next page
CURSOR_HELP = "Where to go on: the nextCursor of the previous page. Leave it out at first."
NEXT_CURSOR_HELP = "Present when more remain: pass it as cursor to get the next page."


def _left_out_when_none(schema: dict) -> None:
    schema.pop("default", None)  # absent, never null, on the last page


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArguments(Arguments):
    pass


class ProjectListArguments(Arguments):
    cursor: str | None = Field(None, max_length=1000, description=CURSOR_HELP)


class ProjectArguments(Arguments):
    project_id: int = Field(ge=1, le=MAX_ID, description="The project's id, from list_projects")
    status: TaskStatus | None = Field(None, description="Only tasks with this status")
    cursor: str | None = Field(None, max_length=1000, description=CURSOR_HELP)


class ProjectList(BaseModel):
    projects: list[ProjectOut]
    nextCursor: str | SkipJsonSchema[None] = Field(
        None, description=NEXT_CURSOR_HELP, json_schema_extra=_left_out_when_none
    )


class TaskList(BaseModel):
    project_id: int
    tasks: list[TaskOut]
    nextCursor: str | SkipJsonSchema[None] = Field(
        None, description=NEXT_CURSOR_HELP, json_schema_extra=_left_out_when_none
    )


class TaskArguments(Arguments):
    task_id: int = Field(ge=1, le=MAX_ID, description="The task's id")


class CreateTaskArguments(Arguments):
    project_id: int = Field(ge=1, le=MAX_ID, description="The project to add the task to")
    title: TaskTitle = Field(description="A short title")
    description: TaskText = ""
    status: TaskStatus = TaskStatus.TODO


class UpdateTaskArguments(Arguments):
    task_id: int = Field(ge=1, le=MAX_ID, description="The task to change")
    title: TaskTitle | None = None
    description: TaskText | None = None
    status: TaskStatus | None = None


def list_projects(token, args: ProjectListArguments) -> dict:
    projects = projects_for(token)
    if args.cursor is not None:
        name, pk = cursors.read(args.cursor, "list_projects", (str, int))
        projects = projects.filter(Q(name__gt=name) | Q(name=name, pk__gt=pk))
    page, last = _page(projects)
    data: dict = {"projects": [project_data(p) for p in page]}
    if last is not None:
        data["nextCursor"] = cursors.make("list_projects", (last.name, last.pk))
    return data


def list_tasks(token, args: ProjectArguments) -> dict:
    tasks = tasks_for(token, project_pk=args.project_id)
    if args.status:
        tasks = tasks.filter(status=args.status)
    if args.cursor is not None:
        (pk,) = cursors.read(args.cursor, "list_tasks", (int,))
        tasks = tasks.filter(pk__gt=pk)
    page, last = _page(tasks)
    data: dict = {"project_id": args.project_id, "tasks": [task_data(t) for t in page]}
    if last is not None:
        data["nextCursor"] = cursors.make("list_tasks", (last.pk,))
    return data


def _page(queryset) -> tuple[list, Any]:
    """One page, in one query, and its last item when more remain after it (else None)."""
    rows = list(queryset[: PAGE_SIZE + 1])
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1]
    return rows, None


def get_task(token, args: TaskArguments) -> dict:
    return task_data(task_for(token, pk=args.task_id))


def create_task(token, args: CreateTaskArguments) -> dict:
    project = project_for(token, pk=args.project_id, scope=TASKS_WRITE)
    task = services.task_create(
        project=project,
        title=args.title,
        description=args.description,
        status=args.status,
        by=token.owner,
    )
    return task_data(task)


def update_task(token, args: UpdateTaskArguments) -> dict:
    task = task_for(token, pk=args.task_id, scope=TASKS_WRITE)
    changes = args.model_dump(exclude={"task_id"}, exclude_none=True)
    return task_data(services.task_update(task=task, **changes))


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    arguments: type[Arguments]
    run: Callable
    writes: bool = False
    output: type[BaseModel] | None = None

    def definition(self) -> dict:
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        definition = {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": schema,
            "annotations": {"readOnlyHint": not self.writes, "openWorldHint": False},
        }
        if self.output is not None:
            output = self.output.model_json_schema()
            output.pop("title", None)
            definition["outputSchema"] = output
        return definition


TOOLS = {
    tool.name: tool
    for tool in [
        Tool("list_projects", "List projects",
             "List the projects this token can reach in its organization, 200 at a time: while "
             "more remain, the answer's nextCursor, passed as cursor, gives the next ones. "
             "Needs projects:read.", ProjectListArguments, list_projects, output=ProjectList),
        Tool("list_tasks", "List a project's tasks",
             "List the tasks of one project, optionally only those with a given status, 200 at "
             "a time: while more remain, the answer's nextCursor, passed as cursor, gives the "
             "next ones. Needs tasks:read.", ProjectArguments, list_tasks, output=TaskList),
        Tool("get_task", "Get a task", "Read one task by id. Needs tasks:read.",
             TaskArguments, get_task),
        Tool("create_task", "Create a task",
             "Add a task to a project. Needs tasks:write (and a role that allows it).",
             CreateTaskArguments, create_task, writes=True),
        Tool("update_task", "Update a task",
             "Change a task's title, description or status; fields left out stay as they are. "
             "Needs tasks:write.", UpdateTaskArguments, update_task, writes=True),
    ]
}  # fmt: skip


@functools.cache
def definitions() -> tuple[dict, ...]:
    """Every tool's definition, built once: pydantic's JSON schemas cost about half a
    millisecond a tool, and the list is the same for every request (bench/mcp_sdk.py)."""
    return tuple(tool.definition() for tool in TOOLS.values())


def call_tool(tool: Tool, token, arguments: dict) -> tuple[dict, int]:
    """Run a tool; returns the MCP CallToolResult and an HTTP-like status for the audit log."""
    try:
        args = tool.arguments.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        return _error(f"Invalid arguments: {problems}"), 422
    try:
        data = tool.run(token, args)
    except cursors.BadCursor as exc:
        return _error(f"Invalid arguments: cursor: {exc}"), 422
    except InsufficientScope as exc:
        return _error(f"Refused: {exc.description} (missing scope: {exc.scope})"), 403
    except ObjectDoesNotExist as exc:
        what = type(exc).__qualname__.split(".")[0].lower()
        which = arguments.get(f"{what}_id", "")
        return _error(f"No {what} {which} within this token's reach."), 404
    return {
        "content": [{"type": "text", "text": json.dumps(data, indent=2)}],
        "structuredContent": data,
        "isError": False,
    }, 200


def _error(message: str) -> dict:
    return {"content": [{"type": "text", "text": message}], "isError": True}
