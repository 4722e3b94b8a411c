"""Projects and tasks over REST. Every endpoint reaches its objects through the permission
module's check-then-fetch functions, and answers with the schemas in projects/schemas.py."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema, Status

from core.forms import MAX_ID
from projects import services
from projects.schemas import (
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    TaskIn,
    TaskOut,
    TaskPatch,
    TaskStatus,
)
from tokens.permissions import (
    PROJECTS_WRITE,
    TASKS_WRITE,
    project_for,
    projects_for,
    require_project_creation,
    task_for,
    tasks_for,
)

from .errors import READ_ERRORS, WRITE_ERRORS
from .pagination import PageQuery, paginate

router = Router(tags=["Projects and tasks"])

ProjectId = Path(..., ge=1, le=MAX_ID)
TaskId = Path(..., ge=1, le=MAX_ID)


class ProjectPage(Schema):
    items: list[ProjectOut]
    count: int


def _left_out_if_any(schema: dict) -> None:
    # A query parameter is absent or a value, never null: the schema offers only the enum.
    choices = [choice for choice in schema.pop("anyOf", []) if choice != {"type": "null"}]
    schema.update(choices[0] if len(choices) == 1 else {"anyOf": choices})


class TaskQuery(PageQuery):
    status: TaskStatus | None = Field(
        None, description="Only tasks with this status.", json_schema_extra=_left_out_if_any
    )


class TaskPage(Schema):
    items: list[TaskOut]
    count: int


def _created(request: HttpRequest, response: HttpResponse, name: str, **kwargs) -> None:
    response["Location"] = request.build_absolute_uri(reverse(f"api-v1:{name}", kwargs=kwargs))


@router.get("/projects", response={200: ProjectPage, **READ_ERRORS}, summary="List projects")
def list_projects(request, response: HttpResponse, query: Query[PageQuery]):
    return paginate(request, response, projects_for(request.auth), query)


@router.post("/projects", response={201: ProjectOut, **WRITE_ERRORS}, summary="Create a project")
def create_project(request, response: HttpResponse, payload: ProjectIn):
    require_project_creation(request.auth)
    project = services.project_create(
        organization=request.auth.organization, **payload.model_dump()
    )
    _created(request, response, "get_project", project_id=project.pk)
    return Status(201, project)


@router.get(
    "/projects/{project_id}", response={200: ProjectOut, **READ_ERRORS}, summary="Get a project"
)
def get_project(request, project_id: int = ProjectId):
    return project_for(request.auth, pk=project_id)


@router.patch(
    "/projects/{project_id}", response={200: ProjectOut, **WRITE_ERRORS}, summary="Update a project"
)
def update_project(request, payload: ProjectPatch, project_id: int = ProjectId):
    project = project_for(request.auth, pk=project_id, scope=PROJECTS_WRITE)
    return services.project_update(project=project, **payload.model_dump(exclude_unset=True))


@router.delete(
    "/projects/{project_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a project"
)
def delete_project(request, project_id: int = ProjectId):
    services.project_delete(project=project_for(request.auth, pk=project_id, scope=PROJECTS_WRITE))
    return Status(204, None)


@router.get(
    "/projects/{project_id}/tasks",
    response={200: TaskPage, **READ_ERRORS},
    summary="List a project's tasks",
)
def list_tasks(
    request, response: HttpResponse, query: Query[TaskQuery], project_id: int = ProjectId
):
    tasks = tasks_for(request.auth, project_pk=project_id)
    if query.status is not None:
        tasks = tasks.filter(status=query.status)
    return paginate(request, response, tasks, query)


@router.post(
    "/projects/{project_id}/tasks", response={201: TaskOut, **WRITE_ERRORS}, summary="Create a task"
)
def create_task(request, response: HttpResponse, payload: TaskIn, project_id: int = ProjectId):
    project = project_for(request.auth, pk=project_id, scope=TASKS_WRITE)
    task = services.task_create(project=project, by=request.auth.owner, **payload.model_dump())
    _created(request, response, "get_task", task_id=task.pk)
    return Status(201, task)


@router.get("/tasks/{task_id}", response={200: TaskOut, **READ_ERRORS}, summary="Get a task")
def get_task(request, task_id: int = TaskId):
    return task_for(request.auth, pk=task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS}, summary="Update a task")
def update_task(request, payload: TaskPatch, task_id: int = TaskId):
    task = task_for(request.auth, pk=task_id, scope=TASKS_WRITE)
    return services.task_update(task=task, **payload.model_dump(exclude_unset=True))


@router.delete("/tasks/{task_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a task")
def delete_task(request, task_id: int = TaskId):
    services.task_delete(task=task_for(request.auth, pk=task_id, scope=TASKS_WRITE))
    return Status(204, None)
