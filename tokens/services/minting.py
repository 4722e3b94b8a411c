"""Minting: every way a token comes to exist (a person's token, an agent connection, a project
token, a rotation's successor) goes through `token_mint`, after the checks its caller owes."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.services import Event, audit_record
from core import ipallow
from core.emails import send_on_commit
from core.text import is_one_plain_line
from orgs.models import OVERSEERS, Membership, Organization
from projects.models import Project

from .. import codec, emails
from ..models import Token
from ..permissions import SCOPES
from ..policy import ExpiryNotAllowed, check_expiry


class TokenValidationError(Exception):
    """A token cannot be made or changed as asked; `field` names the form field to blame."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class TokenConflict(TokenValidationError):
    """Another change got there first (the token was revoked or rotated meanwhile): a 409."""


# What every new token is checked for.


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise TokenValidationError("Give the token a name.", "name")
    if not is_one_plain_line(name):
        # Line breaks and invisible formatting (bidi overrides such as U+202E) would let a name
        # pose as something else in lists, emails and logs.
        raise TokenValidationError(
            "Use plain text: no line breaks or invisible formatting characters.", "name"
        )
    return name


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenValidationError(f"Unknown scope: {', '.join(unknown)}.", "scopes")
    if not scopes:
        raise TokenValidationError("Choose at least one scope.", "scopes")
    return [scope for scope in SCOPES if scope in scopes]


def _clean_allowed_ips(allowed_ips: list[str] | None) -> str:
    if allowed_ips is not None and (
        isinstance(allowed_ips, str) or not all(isinstance(entry, str) for entry in allowed_ips)
    ):
        raise TokenValidationError("List addresses and networks, one per entry.", "allowed_ips")
    try:
        return ipallow.normalize(allowed_ips)
    except ipallow.InvalidAllowlist as exc:
        raise TokenValidationError(str(exc), "allowed_ips") from exc


def _clean_projects(
    projects: Iterable[Project] | None, organization: Organization
) -> list[Project] | None:
    if projects is None:
        return None
    projects = list(projects)
    if any(project.organization_id != organization.pk for project in projects):
        raise TokenValidationError(f"Choose projects of {organization.name} only.", "projects")
    return projects


def _check_expiry(*, organization: Organization, expires_at: datetime | None) -> None:
    try:
        check_expiry(organization=organization, expires_at=expires_at, now=timezone.now())
    except ExpiryNotAllowed as exc:
        field = "expires_on" if expires_at is not None and expires_at <= timezone.now() else None
        raise TokenValidationError(exc.message, field or "expiry") from exc


def _check_person(
    *, person: User, organization: Organization, roles: Iterable[str] | None = None
) -> None:
    """The person minting a token: verified, a member (with one of `roles`, if given), and with
    two factors where the organization requires them."""
    if not person.email_verified:
        raise TokenValidationError("Verify your email address before creating tokens.")
    role = (
        Membership.objects.filter(user=person, organization=organization)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise TokenValidationError("You are not a member of this organization.", "organization")
    if roles is not None and role not in roles:
        raise TokenValidationError(
            f"Only owners and admins of {organization.name} can manage project tokens."
        )
    if organization.require_two_factor and not person.has_two_factors:
        raise TokenValidationError(
            f"{organization.name} requires two-factor authentication: set it up under "
            "Settings → Security first.",
            "organization",
        )


# Minting: the one way a token comes to exist.


@sensitive_variables("secret")
def token_mint(
    *,
    kind: str,
    organization: Organization,
    by: User | None,
    name: str,
    scopes: Iterable[str],
    owner: User | None = None,
    project: Project | None = None,
    projects: Iterable[Project] | None = None,
    description: str = "",
    expires_at: datetime | None = None,
    client: str = "",
    allowed_ips: list[str] | None = None,
    origin_id: int | None = None,
    secret_expires_at: datetime | None = None,
    audience: str = "",
    secret: str | None = None,
    ip: str | None = None,
    user_agent: str = "",
    detail: dict[str, Any] | None = None,
) -> tuple[Token, str]:
    """Store a new token with a new secret and return both; the secret exists only in this
    return value. Checks the name, scopes, projects and allowlist, audits the creation with
    `detail`, and leaves the caller to check who may mint, and the expiry.

    `projects=None` means every project of the organization; a list restricts the token to
    those. `origin_id` is the first token of a rotation line the new one continues. The database
    keeps names unique among working tokens of an owner or a project. `secret` is one
    tokens.codec.generate made already (an OAuth library's token generator); by default a new one.
    """
    projects = _clean_projects(projects, organization)
    fields = {
        "kind": kind,
        "owner": owner,
        "organization": organization,
        "project": project,
        "created_by": by,
        "name": _clean_name(name),
        "description": description.strip(),
        "scopes": _clean_scopes(scopes),
        "all_projects": projects is None and project is None,
        "expires_at": expires_at,
        "client": client if kind == Token.Kind.AGENT else "",
        "allowed_ips": _clean_allowed_ips(allowed_ips),
        "origin_id": origin_id,
        "secret_expires_at": secret_expires_at,
        "audience": audience,
    }
    with transaction.atomic():
        token, secret = _store(fields, projects, secret)
        audit_record(
            event=Event.AGENT_CONNECTED if kind == Token.Kind.AGENT else Event.TOKEN_CREATED,
            token=token,
            actor=by,
            ip=ip,
            user_agent=user_agent,
            detail={"name": token.name, "scopes": token.scopes, **(detail or {})},
        )
    return token, secret


@sensitive_variables("secret")
def _store(
    fields: dict[str, Any], projects: list[Project] | None, secret: str | None
) -> tuple[Token, str]:
    """Insert the token with its secret (a new one unless given); a name taken by a working
    token of the same owner or project is the database's to refuse, and the form's field to
    blame."""
    if secret is None:
        secret = codec.generate(fields["kind"])
    elif codec.parse(secret).kind != fields["kind"]:
        raise ValueError("the secret given is not of the token's kind")
    try:
        with transaction.atomic():
            token = Token.objects.create(
                digest=codec.digest(secret), prefix=codec.display_prefix(secret), **fields
            )
            if projects:
                token.projects.set(projects)
    except IntegrityError as exc:
        whose = "This project already has" if fields["project"] else "You already have"
        raise TokenValidationError(
            f"{whose} a token named “{fields['name']}”. Pick another name or revoke that one.",
            "name",
        ) from exc
    return token, secret


@sensitive_variables("secret")
def token_create(
    *,
    owner: User,
    organization: Organization,
    name: str,
    scopes: list[str],
    description: str = "",
    projects: Iterable[Project] | None = None,
    expires_at: datetime | None = None,
    kind: str = Token.Kind.PERSONAL,
    client: str = "",
    allowed_ips: list[str] | None = None,
    secret_expires_at: datetime | None = None,
    audience: str = "",
    secret: str | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[Token, str]:
    """Mint a personal access token or agent connection and return it with its secret.

    `projects=None` means every project of the organization; a list restricts the token to those.
    `allowed_ips` lists the addresses and CIDR networks it may be used from (None: anywhere);
    `secret_expires_at`, `audience` and a `secret` made already are an OAuth connection's
    (Token's fields say what).
    The expiry must satisfy the organization's token policy. The owner is emailed (never the
    secret), with where the request came from (`ip`, `user_agent`) when there was one.
    """
    if kind not in (Token.Kind.PERSONAL, Token.Kind.AGENT):
        raise ValueError(f"token_create makes personal tokens and agent connections, not {kind!r}")
    _check_person(person=owner, organization=organization)
    _check_expiry(organization=organization, expires_at=expires_at)
    projects = None if projects is None else list(projects)
    if projects == []:
        raise TokenValidationError("Choose at least one project.", "projects")
    token, secret = token_mint(
        kind=kind,
        organization=organization,
        by=owner,
        owner=owner,
        name=name,
        description=description,
        scopes=scopes,
        projects=projects,
        expires_at=expires_at,
        client=client,
        allowed_ips=allowed_ips,
        secret_expires_at=secret_expires_at,
        audience=audience,
        secret=secret,
        ip=ip,
        user_agent=user_agent,
        detail={"client": client if kind == Token.Kind.AGENT else ""},
    )
    send_on_commit(lambda: emails.token_created(token=token, ip=ip, user_agent=user_agent))
    return token, secret


@sensitive_variables("secret")
def project_token_create(
    *,
    project: Project,
    by: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    description: str = "",
    allowed_ips: list[str] | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[Token, str]:
    """Mint a project token (`tsr_prj_`) and return it with its secret.

    Only owners and admins of the project's organization may (TokenValidationError otherwise).
    The token belongs to the project, not to `by`: it survives `by` leaving the organization or
    being deactivated. It reaches only its project, with its scopes capped at what the member
    role allows (tokens.permissions.PROJECT_TOKEN_ROLE). `by` is recorded as its creator; it
    and every owner and admin of the organization are emailed, once each (never the secret).
    """
    organization = project.organization
    _check_person(person=by, organization=organization, roles=OVERSEERS)
    _check_expiry(organization=organization, expires_at=expires_at)
    token, secret = token_mint(
        kind=Token.Kind.PROJECT,
        organization=organization,
        by=by,
        project=project,
        name=name,
        description=description,
        scopes=scopes,
        expires_at=expires_at,
        allowed_ips=allowed_ips,
        ip=ip,
        user_agent=user_agent,
        detail={"project": project.name},
    )
    send_on_commit(lambda: emails.token_created(token=token, ip=ip, user_agent=user_agent))
    return token, secret
