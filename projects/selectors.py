from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from tokens.permissions import visible_projects, visible_tasks

from .models import Project, Task


def project_list(*, token) -> QuerySet[Project]:
    return visible_projects(token).order_by("name", "id")


def project_get(*, token, pk: int) -> Project:
    """The project if the token reaches it; Http404 otherwise, so existence is not revealed."""
    return get_object_or_404(visible_projects(token), pk=pk)


def task_list(*, token, project: Project) -> QuerySet[Task]:
    return visible_tasks(token).filter(project=project).order_by("id")


def task_get(*, token, pk: int) -> Task:
    return get_object_or_404(visible_tasks(token), pk=pk)
