from datetime import datetime
from typing import Literal

from ninja import Router, Schema

from orgs.models import Role
from tokens.models import Token
from tokens.permissions import SCOPES, effective_scopes, visible_projects

from .errors import AUTH_ERRORS

router = Router(tags=["Tokens"])

Scope = Literal[tuple(SCOPES)]  # type: ignore[valid-type]
Kind = Literal[tuple(Token.Kind.values)]  # type: ignore[valid-type]
RoleName = Literal[tuple(Role.values)]  # type: ignore[valid-type]


class UserOut(Schema):
    email: str
    name: str


class OrganizationOut(Schema):
    slug: str
    name: str
    role: RoleName


class ProjectRef(Schema):
    id: int
    name: str


class TokenOut(Schema):
    name: str
    kind: Kind
    prefix: str
    scopes: list[Scope]
    effective_scopes: list[Scope]
    all_projects: bool
    projects: list[ProjectRef] | None
    created_at: datetime
    expires_at: datetime | None


class MeOut(Schema):
    user: UserOut
    organization: OrganizationOut
    token: TokenOut


@router.get(
    "/me", response={200: MeOut, **AUTH_ERRORS}, summary="Who this token is and what it may do"
)
def me(request):
    """What an integration calls to validate a connection. Never returns the secret."""
    token = request.auth
    projects = None
    if not token.all_projects:
        projects = list(visible_projects(token).values("id", "name"))
    effective = effective_scopes(token)
    return {
        "user": {"email": token.owner.email, "name": token.owner.name},
        "organization": {
            "slug": token.organization.slug,
            "name": token.organization.name,
            "role": token.role,
        },
        "token": {
            "name": token.name,
            "kind": token.kind,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "effective_scopes": [scope for scope in token.scopes if scope in effective],
            "all_projects": token.all_projects,
            "projects": projects,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
        },
    }
