from typing import TYPE_CHECKING

from orgs.models import Organization

from .models import Project, Task

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation


def project_create(*, organization: Organization, name: str, description: str = "") -> Project:
    return Project.objects.create(organization=organization, name=name, description=description)


def project_update(
    *, project: Project, name: str | None = None, description: str | None = None
) -> Project:
    """Change the fields given; None leaves a field as it is."""
    if name is not None:
        project.name = name
    if description is not None:
        project.description = description
    project.save()
    return project


def project_delete(*, project: Project) -> None:
    project.delete()


def task_create(
    *,
    project: Project,
    title: str,
    description: str = "",
    status: str = "todo",
    by: "User | None" = None,
) -> Task:
    return Task.objects.create(
        project=project, title=title, description=description, status=status, created_by=by
    )


def task_update(
    *,
    task: Task,
    title: str | None = None,
    description: str | None = None,
    status: str | None = None,
) -> Task:
    """Change the fields given; None leaves a field as it is."""
    if title is not None:
        task.title = title
    if description is not None:
        task.description = description
    if status is not None:
        task.status = status
    task.save()
    return task


def task_delete(*, task: Task) -> None:
    task.delete()
