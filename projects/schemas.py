"""How a project and a task look to API and MCP clients: one schema each, shared by REST
(api/) and the MCP tools (mcp_server/tools.py), so both answer the same JSON."""

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from ninja import Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import AfterValidator, Field, StringConstraints

from core.text import is_one_plain_line

from .models import Project, Task

# PostgreSQL cannot store NUL characters, so no text field accepts them.
NO_NUL = r"^[^\x00]*$"


def _one_plain_line(value: str) -> str:
    # Names and titles reach security emails, logs and lists, where a line break or invisible
    # formatting (bidi overrides such as U+202E) would let one pose as something else; token
    # names refuse them too (tokens.services.minting).
    if not is_one_plain_line(value):
        raise ValueError("use plain text on one line: no line breaks or invisible characters")
    return value


ProjectName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL),
    AfterValidator(_one_plain_line),
]
TaskTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL),
    AfterValidator(_one_plain_line),
]
ProjectText = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
TaskText = Annotated[str, StringConstraints(max_length=5000, pattern=NO_NUL)]


class TaskStatus(StrEnum):
    """Where a task stands: todo, in_progress or done."""

    # Task.Status's choices, as an enum of their own name in the OpenAPI schema
    # (tests/projects/test_schemas.py keeps the two the same).

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


def _unchanged_if_left_out(schema: dict) -> None:
    # A PATCH field's absence means "leave it"; its schema says so instead of a null default.
    schema.pop("default", None)


def Unchanged():
    return Field(None, json_schema_extra=_unchanged_if_left_out)


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


class ProjectIn(Schema):
    name: ProjectName
    description: ProjectText = ""


class ProjectPatch(Schema):
    """Fields left out stay as they are; none may be set to null."""

    name: ProjectName = Unchanged()
    description: ProjectText = Unchanged()


class TaskOut(Schema):
    id: int
    project_id: int
    title: str
    description: str
    status: TaskStatus
    created_at: datetime
    updated_at: datetime


class TaskIn(Schema):
    title: TaskTitle
    description: TaskText = ""
    status: TaskStatus = TaskStatus.TODO


class TaskPatch(Schema):
    """Fields left out stay as they are; none may be set to null."""

    title: TaskTitle = Unchanged()
    description: TaskText = Unchanged()
    status: TaskStatus = Unchanged()


def _as_the_api_renders(data: Schema) -> dict:
    # Through the encoder the API's renderer uses, so dates read the same over REST and MCP.
    return json.loads(json.dumps(data.model_dump(), cls=NinjaJSONEncoder))


def project_data(project: Project) -> dict:
    """A project as JSON-ready data, exactly as the API returns it."""
    return _as_the_api_renders(ProjectOut.from_orm(project))


def task_data(task: Task) -> dict:
    """A task as JSON-ready data, exactly as the API returns it."""
    return _as_the_api_renders(TaskOut.from_orm(task))
