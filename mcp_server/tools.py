"""The MCP tools: the same permission checks, services and schemas as the JSON API, so a tool
can do exactly what the same token could over REST and answers with the same JSON."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.forms import MAX_ID
from projects import services
from projects.schemas import TaskStatus, TaskText, TaskTitle, project_data, task_data
from tokens.permissions import (
    TASKS_WRITE,
    InsufficientScope,
    project_for,
    projects_for,
    task_for,
    tasks_for,
)

LIST_LIMIT = 200


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArguments(Arguments):
    pass


class ProjectArguments(Arguments):
    project_id: int = Field(ge=1, le=MAX_ID, description="The project's id, from list_projects")
    status: TaskStatus | None = Field(None, description="Only tasks with this status")


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


def list_projects(token, args: NoArguments) -> dict:
    return {"projects": [project_data(p) for p in projects_for(token)[:LIST_LIMIT]]}


def list_tasks(token, args: ProjectArguments) -> dict:
    tasks = tasks_for(token, project_pk=args.project_id)
    if args.status:
        tasks = tasks.filter(status=args.status)
    return {"project_id": args.project_id, "tasks": [task_data(t) for t in tasks[:LIST_LIMIT]]}


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

    def definition(self) -> dict:
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": schema,
            "annotations": {"readOnlyHint": not self.writes, "openWorldHint": False},
        }


TOOLS = {
    tool.name: tool
    for tool in [
        Tool("list_projects", "List projects",
             "List the projects this token can reach in its organization. Needs projects:read.",
             NoArguments, list_projects),
        Tool("list_tasks", "List a project's tasks",
             "List the tasks of one project, optionally only those with a given status. "
             "Needs tasks:read.", ProjectArguments, list_tasks),
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
