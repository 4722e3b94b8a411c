"""May this token do this to that object? One answer, shared by the JSON API and MCP.

Effective access = the token's scopes ∩ what the owner's *current* role in the token's
organization allows ∩ the token's project restriction. The role arrives with the token in the
middleware's single query (`token.role`), so every request sees today's role, not the one the
owner had when the token was made.

A project token has no owner: its role is PROJECT_TOKEN_ROLE whoever made it, and it reaches its
own project and nothing else.
"""

from django.db.models import QuerySet

from orgs.models import Role
from projects.models import Project, Task

from .models import Token

PROJECTS_READ = "projects:read"
PROJECTS_WRITE = "projects:write"
TASKS_READ = "tasks:read"
TASKS_WRITE = "tasks:write"

SCOPES: dict[str, str] = {
    PROJECTS_READ: "List and read projects",
    PROJECTS_WRITE: "Create, update and delete projects",
    TASKS_READ: "List and read tasks",
    TASKS_WRITE: "Create, update and delete tasks",
}
READ_ONLY = frozenset(scope for scope in SCOPES if scope.endswith(":read"))
READ_WRITE = frozenset(SCOPES)

# What a project token may do at most: a member's access, in its one project.
PROJECT_TOKEN_ROLE = Role.MEMBER

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.VIEWER: READ_ONLY,
    Role.MEMBER: READ_ONLY | {TASKS_WRITE},
    Role.ADMIN: READ_WRITE,
    Role.OWNER: READ_WRITE,
}


class InsufficientScope(Exception):
    def __init__(self, scope: str, description: str):
        super().__init__(description)
        self.scope = scope
        self.description = description


def effective_scopes(token) -> frozenset[str]:
    return frozenset(token.scopes) & ROLE_SCOPES.get(token.role, frozenset())


def require(token, scope: str) -> None:
    """Raise InsufficientScope, saying why, unless the token may use `scope` right now.

    The scope is noted on the token for the X-Accepted-Scopes response header."""
    accepted = getattr(token, "accepted_scopes", None)
    if accepted is not None and scope not in accepted:
        accepted.append(scope)
    if scope not in token.scopes:
        raise InsufficientScope(scope, f"This token does not have the {scope} scope.")
    if scope not in ROLE_SCOPES.get(token.role, frozenset()):
        raise InsufficientScope(
            scope, f"Your role in this organization ({token.role}) does not allow {scope}."
        )


def require_project_creation(token) -> None:
    require(token, PROJECTS_WRITE)
    if token.kind == Token.Kind.PROJECT:
        raise InsufficientScope(
            PROJECTS_WRITE,
            "A project token reaches only its own project and cannot create projects.",
        )
    if not token.all_projects:
        raise InsufficientScope(
            PROJECTS_WRITE,
            "This token is restricted to chosen projects and cannot create projects.",
        )


def visible_projects(token) -> QuerySet[Project]:
    """The projects the token reaches: its organization's, narrowed by any project restriction,
    or a project token's own project."""
    projects = Project.objects.filter(organization_id=token.organization_id)
    if token.kind == Token.Kind.PROJECT:
        return projects.filter(pk=token.project_id) if token.project_id else projects.none()
    if not token.all_projects:
        granted = Token.projects.through.objects.filter(token_id=token.pk).values("project_id")
        projects = projects.filter(pk__in=granted)
    return projects


def visible_tasks(token) -> QuerySet[Task]:
    return Task.objects.filter(project__in=visible_projects(token))


# Check, then fetch: the one way every endpoint and tool reaches an object. Each raises
# InsufficientScope (403) before looking, then the model's DoesNotExist (404) for anything
# outside the token's organization or project restriction, so existence is never revealed.


def projects_for(token, *, scope: str = PROJECTS_READ) -> QuerySet[Project]:
    require(token, scope)
    return visible_projects(token).order_by("name", "id")


def project_for(token, *, pk: int, scope: str = PROJECTS_READ) -> Project:
    require(token, scope)
    return visible_projects(token).get(pk=pk)


def tasks_for(token, *, project_pk: int, scope: str = TASKS_READ) -> QuerySet[Task]:
    """The tasks of one project within reach; Project.DoesNotExist if the project is not."""
    project = project_for(token, pk=project_pk, scope=scope)
    return Task.objects.filter(project=project).order_by("id")


def task_for(token, *, pk: int, scope: str = TASKS_READ) -> Task:
    require(token, scope)
    return visible_tasks(token).get(pk=pk)


def describe_access(scopes) -> str:
    """Access in words, as the token list shows it."""
    granted = frozenset(scopes)
    if granted == READ_WRITE:
        return "Read & write"
    if granted == READ_ONLY:
        return "Read-only"
    return ", ".join(scope for scope in SCOPES if scope in granted) or "No access"
