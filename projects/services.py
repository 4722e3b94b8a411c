from typing import TYPE_CHECKING

from orgs.models import Organization

from .models import Project, Task

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation


def _change(record: Project | Task, **changes: str | None) -> None:
    for name, value in changes.items():
        if value is not None:
            setattr(record, name, value)
    record.save()


def project_create(*, organization: Organization, name: str, description: str = "") -> Project:
    return Project.objects.create(organization=organization, name=name, description=description)


def project_update(
    *, project: Project, name: str | None = None, description: str | None = None
) -> Project:
    """Change the fields given; None leaves a field as it is."""
    _change(project, name=name, description=description)
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
    _change(task, title=title, description=description, status=status)
    return task


def task_delete(*, task: Task) -> None:
    task.delete()
