"""The MCP tools: the same selectors, services and permission checks as the JSON API."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from projects import services
from projects.api import MAX_ID, TaskStatus, TaskText, TaskTitle
from projects.selectors import project_get, project_list, task_get, task_list
from tokens.permissions import PROJECTS_READ, TASKS_READ, TASKS_WRITE, InsufficientScope, require

LIST_LIMIT = 200


class ToolError(Exception):
    """A tool ran and failed in a way the agent should see (`isError: true`)."""


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
    status: TaskStatus = "todo"


class UpdateTaskArguments(Arguments):
    task_id: int = Field(ge=1, le=MAX_ID, description="The task to change")
    title: TaskTitle | None = None
    description: TaskText | None = None
    status: TaskStatus | None = None


def _project_dict(project) -> dict:
    return {"id": project.pk, "name": project.name, "description": project.description}


def _task_dict(task) -> dict:
    return {
        "id": task.pk,
        "project_id": task.project_id,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "updated_at": task.updated_at.isoformat(),
    }


def _reach(getter, what: str, pk: int, token):
    try:
        return getter(token=token, pk=pk)
    except Http404 as exc:
        raise ToolError(f"No {what} {pk} within this token's reach.") from exc


def list_projects(token, args: NoArguments) -> dict:
    require(token, PROJECTS_READ)
    return {"projects": [_project_dict(p) for p in project_list(token=token)[:LIST_LIMIT]]}


def list_tasks(token, args: ProjectArguments) -> dict:
    require(token, TASKS_READ)
    project = _reach(project_get, "project", args.project_id, token)
    tasks = task_list(token=token, project=project)
    if args.status:
        tasks = tasks.filter(status=args.status)
    return {"project_id": project.pk, "tasks": [_task_dict(t) for t in tasks[:LIST_LIMIT]]}


def get_task(token, args: TaskArguments) -> dict:
    require(token, TASKS_READ)
    return _task_dict(_reach(task_get, "task", args.task_id, token))


def create_task(token, args: CreateTaskArguments) -> dict:
    require(token, TASKS_WRITE)
    project = _reach(project_get, "project", args.project_id, token)
    task = services.task_create(
        project=project,
        title=args.title,
        description=args.description,
        status=args.status,
        by=token.owner,
    )
    return _task_dict(task)


def update_task(token, args: UpdateTaskArguments) -> dict:
    require(token, TASKS_WRITE)
    task = _reach(task_get, "task", args.task_id, token)
    changes = args.model_dump(exclude={"task_id"}, exclude_none=True)
    return _task_dict(services.task_update(task=task, **changes))


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
    except ToolError as exc:
        return _error(str(exc)), 404
    return {
        "content": [{"type": "text", "text": json.dumps(data, indent=2)}],
        "structuredContent": data,
        "isError": False,
    }, 200


def _error(message: str) -> dict:
    return {"content": [{"type": "text", "text": message}], "isError": True}
