import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from allauth.mfa.models import Authenticator
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from accounts.models import User
from orgs.models import Membership, Organization
from projects.models import Project

from .models import Token


def _owner_role():
    """The owner's current role in the token's organization, as a subquery: no extra round trip."""
    return Subquery(
        Membership.objects.filter(
            user_id=OuterRef("owner_id"), organization_id=OuterRef("organization_id")
        ).values("role")[:1]
    )


def token_list(*, owner, kind: str = Token.Kind.PERSONAL) -> QuerySet[Token]:
    """The owner's tokens of one kind that are not revoked, newest first (expired ones included).

    Each carries `role`, so the list can say when the owner's role caps what a token may do.
    """
    return (
        Token.objects.filter(owner=owner, kind=kind, revoked_at__isnull=True)
        .select_related("organization")
        .annotate(role=_owner_role())
        .prefetch_related(Prefetch("projects", queryset=Project.objects.only("id", "name")))
        .order_by("-created_at", "-id")
    )


def token_get_for_owner(*, owner, pk: int, kind: str = Token.Kind.PERSONAL) -> Token:
    """One active token of the owner's; raises Token.DoesNotExist for anyone else's."""
    return token_list(owner=owner, kind=kind).get(pk=pk)


@dataclass(slots=True)
class TokenPrincipal:
    """An authenticated token as the hot path sees it: plain values from one query, no model.

    `owner` and `organization` are model instances built from the same row, with every other
    field deferred, so reading them costs nothing and writing through them works as usual.
    """

    pk: int
    kind: str
    name: str
    prefix: str
    scopes: list[str]
    all_projects: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_rejected_at: datetime | None
    owner_id: int
    owner_email: str
    owner_name: str
    owner_active: bool
    organization_id: int
    organization_slug: str
    organization_name: str
    role: str | None
    # False when the organization requires two factors and the owner has none.
    two_factor_ok: bool
    # The scopes this request's operation needed (tokens.permissions.require notes them).
    accepted_scopes: list[str] = field(default_factory=list)
    _owner: User | None = field(default=None, repr=False)
    _organization: Organization | None = field(default=None, repr=False)

    @property
    def owner(self) -> User:
        if self._owner is None:
            self._owner = User.from_db(
                DEFAULT_DB_ALIAS,
                ["id", "email", "name", "is_active"],
                [self.owner_id, self.owner_email, self.owner_name, self.owner_active],
            )
        return self._owner

    @property
    def organization(self) -> Organization:
        if self._organization is None:
            self._organization = Organization.from_db(
                DEFAULT_DB_ALIAS,
                ["id", "name", "slug"],  # from_db wants the model's field order
                [self.organization_id, self.organization_name, self.organization_slug],
            )
        return self._organization

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def _auth_sql() -> str:
    token, user = Token._meta.db_table, User._meta.db_table
    organization, membership = Organization._meta.db_table, Membership._meta.db_table
    authenticator = Authenticator._meta.db_table
    factors = ", ".join(
        f"'{kind}'" for kind in (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
    )
    # Table names and the factor kinds come from the models, never from input; the digest is a
    # bound parameter. The factor check runs only for organizations that require two factors.
    return (
        "SELECT t.id, t.kind, t.name, t.prefix, t.scopes, t.all_projects, t.created_at,"  # noqa: S608
        " t.expires_at, t.revoked_at, t.last_used_at, t.last_rejected_at,"
        " t.owner_id, u.email, u.name, u.is_active, t.organization_id, o.slug, o.name, m.role,"
        " CASE WHEN o.require_two_factor THEN EXISTS (SELECT 1 FROM"
        f" {authenticator} a WHERE a.user_id = t.owner_id AND a.type IN ({factors}))"
        " ELSE TRUE END"
        f" FROM {token} t"
        f" JOIN {user} u ON u.id = t.owner_id"
        f" JOIN {organization} o ON o.id = t.organization_id"
        f" LEFT JOIN {membership} m"
        "  ON m.user_id = t.owner_id AND m.organization_id = t.organization_id"
        " WHERE t.digest = %s"
    )


_AUTH_SQL = _auth_sql()


def _aware(value):
    # SQLite hands back naive UTC datetimes; PostgreSQL aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _auth_cursor():
    """A cursor for the auth query. On PostgreSQL it binds parameters server-side, so psycopg
    prepares the statement after a few runs and the server stops re-planning a four-table join on
    every request (planning costs more than executing it). Django's wrapper is kept, so query
    logging and error translation work as for any other query.
    """
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy looks it up
    if db.vendor != "postgresql":
        return db.cursor()
    import psycopg

    db.ensure_connection()
    raw = psycopg.Cursor(db.connection)
    return db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)


def token_get_for_auth(*, digest: str) -> TokenPrincipal | None:
    """The token with this digest, its owner and organization, and the owner's role: one query.

    Hand-written SQL on purpose: this runs on every API request, and building three model
    instances through the ORM costs more than the database round trip itself.
    """
    with _auth_cursor() as cursor:
        cursor.execute(_AUTH_SQL, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, kind, name, prefix, scopes, all_projects, created_at, expires_at, revoked_at,
     last_used_at, last_rejected_at, owner_id, email, owner_name, active, org_id, slug, org_name,
     role, two_factor_ok) = row  # fmt: skip
    return TokenPrincipal(
        pk=pk,
        kind=kind,
        name=name,
        prefix=prefix,
        scopes=json.loads(scopes) if isinstance(scopes, str) else scopes,
        all_projects=bool(all_projects),
        created_at=_aware(created_at),
        expires_at=_aware(expires_at),
        revoked_at=_aware(revoked_at),
        last_used_at=_aware(last_used_at),
        last_rejected_at=_aware(last_rejected_at),
        owner_id=owner_id,
        owner_email=email,
        owner_name=owner_name,
        owner_active=bool(active),
        organization_id=org_id,
        organization_slug=slug,
        organization_name=org_name,
        role=role,
        two_factor_ok=bool(two_factor_ok),
    )


def agent_list_for_organization(*, organization) -> QuerySet[Token]:
    """Every member's active agent connections in the organization, for its admins."""
    return (
        Token.objects.filter(
            organization=organization, kind=Token.Kind.AGENT, revoked_at__isnull=True
        )
        .select_related("owner", "organization")
        .prefetch_related(Prefetch("projects", queryset=Project.objects.only("id", "name")))
        .order_by("owner__email", "-created_at")
    )


def agent_get_for_organization(*, organization, pk: int) -> Token:
    """One active agent connection in the organization; Token.DoesNotExist for anything else,
    a member's general tokens included."""
    return agent_list_for_organization(organization=organization).get(pk=pk)
