from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Path, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from pydantic import StringConstraints

from tokens.api import READ_ERRORS, WRITE_ERRORS
from tokens.permissions import (
    PROJECTS_READ,
    PROJECTS_WRITE,
    TASKS_READ,
    TASKS_WRITE,
    require,
    require_project_creation,
)

from . import services
from .selectors import project_get, project_list, task_get, task_list

router = Router(tags=["Projects and tasks"])

# PostgreSQL cannot store NUL characters, so no text field accepts them.
NO_NUL = r"^[^\x00]*$"
ProjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)
]
TaskTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
ProjectText = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
TaskText = Annotated[str, StringConstraints(max_length=5000, pattern=NO_NUL)]
# Ids beyond a signed 64-bit integer cannot exist; refuse them before the database is asked.
MAX_ID = 2**63 - 1
ProjectId = Path(..., ge=1, le=MAX_ID)
TaskId = Path(..., ge=1, le=MAX_ID)


class Pages(PageNumberPagination):
    """Page-number pagination with bounds, so no request can ask for an offset past bigint."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=200)


TaskStatus = Literal["todo", "in_progress", "done"]


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
    name: ProjectName | None = None
    description: ProjectText | None = None


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
    status: TaskStatus = "todo"


class TaskPatch(Schema):
    title: TaskTitle | None = None
    description: TaskText | None = None
    status: TaskStatus | None = None


@router.get("/projects", response={200: list[ProjectOut], **READ_ERRORS}, summary="List projects")
@paginate(Pages)
def list_projects(request):
    require(request.auth, PROJECTS_READ)
    return project_list(token=request.auth)


@router.post("/projects", response={201: ProjectOut, **WRITE_ERRORS}, summary="Create a project")
def create_project(request, payload: ProjectIn):
    require_project_creation(request.auth)
    project = services.project_create(
        organization=request.auth.organization, **payload.model_dump()
    )
    return Status(201, project)


@router.get(
    "/projects/{project_id}", response={200: ProjectOut, **READ_ERRORS}, summary="Get a project"
)
def get_project(request, project_id: int = ProjectId):
    require(request.auth, PROJECTS_READ)
    return project_get(token=request.auth, pk=project_id)


@router.patch(
    "/projects/{project_id}", response={200: ProjectOut, **WRITE_ERRORS}, summary="Update a project"
)
def update_project(request, payload: ProjectPatch, project_id: int = ProjectId):
    require(request.auth, PROJECTS_WRITE)
    project = project_get(token=request.auth, pk=project_id)
    return services.project_update(project=project, **payload.model_dump(exclude_unset=True))


@router.delete(
    "/projects/{project_id}", response={204: None, **READ_ERRORS}, summary="Delete a project"
)
def delete_project(request, project_id: int = ProjectId):
    require(request.auth, PROJECTS_WRITE)
    services.project_delete(project=project_get(token=request.auth, pk=project_id))
    return Status(204, None)


@router.get(
    "/projects/{project_id}/tasks",
    response={200: list[TaskOut], **READ_ERRORS},
    summary="List a project's tasks",
)
@paginate(Pages)
def list_tasks(request, project_id: int = ProjectId):
    require(request.auth, TASKS_READ)
    project = project_get(token=request.auth, pk=project_id)
    return task_list(token=request.auth, project=project)


@router.post(
    "/projects/{project_id}/tasks", response={201: TaskOut, **WRITE_ERRORS}, summary="Create a task"
)
def create_task(request, payload: TaskIn, project_id: int = ProjectId):
    require(request.auth, TASKS_WRITE)
    project = project_get(token=request.auth, pk=project_id)
    task = services.task_create(project=project, by=request.auth.owner, **payload.model_dump())
    return Status(201, task)


@router.get("/tasks/{task_id}", response={200: TaskOut, **READ_ERRORS}, summary="Get a task")
def get_task(request, task_id: int = TaskId):
    require(request.auth, TASKS_READ)
    return task_get(token=request.auth, pk=task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS}, summary="Update a task")
def update_task(request, payload: TaskPatch, task_id: int = TaskId):
    require(request.auth, TASKS_WRITE)
    task = task_get(token=request.auth, pk=task_id)
    return services.task_update(task=task, **payload.model_dump(exclude_unset=True))


@router.delete("/tasks/{task_id}", response={204: None, **READ_ERRORS}, summary="Delete a task")
def delete_task(request, task_id: int = TaskId):
    require(request.auth, TASKS_WRITE)
    services.task_delete(task=task_get(token=request.auth, pk=task_id))
    return Status(204, None)
