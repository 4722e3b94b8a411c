from datetime import datetime
from typing import Literal

from django.http import JsonResponse
from ninja import Field, Router, Schema
from ninja.responses import NinjaJSONEncoder

from tokens.permissions import effective_scopes, visible_projects

from .errors import AUTH_ERRORS

router = Router(tags=["Tokens"])

# Written out for the type checker; tests/api/test_me.py keeps them the model's own.
Scope = Literal["projects:read", "projects:write", "tasks:read", "tasks:write"]
Kind = Literal["pat", "agt", "prj"]
RoleName = Literal["owner", "admin", "member", "viewer"]


class UserOut(Schema):
    """Who the token acts as. A project token belongs to a project, not a person: its `id` and
    `email` are null and `name` says so, such as "Website (project token)"."""

    id: int | None = Field(description="The person's stable id; null for a project token.")
    email: str | None = Field(description="The person's email; null for a project token.")
    name: str


class OrganizationOut(Schema):
    id: int = Field(description="The organization's stable id (its slug may change).")
    slug: str
    name: str
    role: RoleName


class ProjectRef(Schema):
    id: int
    name: str


class TokenOut(Schema):
    id: int
    name: str
    kind: Kind
    prefix: str
    scopes: list[Scope]
    effective_scopes: list[Scope]
    all_projects: bool
    projects: list[ProjectRef] | None
    project: ProjectRef | None = Field(
        description="For a project token (kind prj), the one project it belongs to."
    )
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class MeOut(Schema):
    user: UserOut
    organization: OrganizationOut
    token: TokenOut


@router.get(
    "/me", response={200: MeOut, **AUTH_ERRORS}, summary="Who this token is and what it may do"
)
def me(request):
    """What an integration calls to validate a connection. Never returns the secret.

    The hottest endpoint (clients call it to check a token), so it answers its JSON directly
    rather than through the response schema's validation, which costs more than the rest of the
    view; tests/api/test_me.py holds every answer to MeOut instead."""
    token = request.auth
    projects = None
    if not token.all_projects:
        projects = list(visible_projects(token).values("id", "name"))
    effective = effective_scopes(token)
    project = None
    if token.owner_id is None:  # a project token: it describes itself, not a person
        project = projects[0] if projects else None
        name = f"{project['name'] if project else token.name} (project token)"
        user = {"id": None, "email": None, "name": name}
    else:
        user = {"id": token.owner_id, "email": token.owner_email, "name": token.owner_name}
    body = {
        "user": user,
        "organization": {
            "id": token.organization_id,
            "slug": token.organization_slug,
            "name": token.organization_name,
            "role": token.role,
        },
        "token": {
            "id": token.pk,
            "name": token.name,
            "kind": token.kind,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "effective_scopes": [scope for scope in token.scopes if scope in effective],
            "all_projects": token.all_projects,
            "projects": projects,
            "project": project,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "expires_at": token.expires_at,
        },
    }
    return JsonResponse(body, encoder=NinjaJSONEncoder)
