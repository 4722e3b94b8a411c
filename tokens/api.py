from datetime import datetime
from typing import Any

from ninja import Router, Schema

from .permissions import effective_scopes, visible_projects

router = Router(tags=["Tokens"])


class ErrorOut(Schema):
    """RFC 6750 errors (401, 403) and 503: what went wrong, and for 403 the scope needed."""

    error: str
    error_description: str
    scope: str | None = None


class DetailOut(Schema):
    detail: str


class ValidationErrorOut(Schema):
    detail: list[dict[str, Any]]


AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut, 503: ErrorOut}
READ_ERRORS = {**AUTH_ERRORS, 404: DetailOut, 422: ValidationErrorOut}
WRITE_ERRORS = {**READ_ERRORS, 400: DetailOut}


class UserOut(Schema):
    email: str
    name: str


class OrganizationOut(Schema):
    slug: str
    name: str
    role: str


class ProjectRef(Schema):
    id: int
    name: str


class TokenOut(Schema):
    name: str
    kind: str
    prefix: str
    scopes: list[str]
    effective_scopes: list[str]
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
