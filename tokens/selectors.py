"""Reads: token lists for the pages, the auth hot path's one query, rotation lines and their
history, and what an organization's token policy allows."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from orgs.models import Membership, Organization, Role
from projects.models import Project

from .models import ExpiryReminder, Token
from .permissions import PROJECT_TOKEN_ROLE

# What a list can show (the `status` of the list selectors), and how a filter control names it.
CURRENT = "current"
ACTIVE = "active"
EXPIRING = "expiring"
NEVER_USED = "never_used"
INACTIVE = "inactive"
ALL = "all"
TOKEN_FILTERS: dict[str, str] = {
    CURRENT: "Current",
    ACTIVE: "Active",
    EXPIRING: "Expiring within 7 days",
    NEVER_USED: "Never used",
    INACTIVE: "Inactive",
    ALL: "All",
}
EXPIRING_WITHIN = timedelta(days=7)
MAX_SEARCH_LENGTH = 100


def _owner_role():
    """The owner's current role in the token's organization, as a subquery: no extra round trip."""
    return Subquery(
        Membership.objects.filter(
            user_id=OuterRef("owner_id"), organization_id=OuterRef("organization_id")
        ).values("role")[:1]
    )


def _usable(now: datetime) -> Q:
    """Works right now: not revoked, not expired, not past a rotation's overlap."""
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _current(now: datetime) -> Q:
    """Still the owner's concern: not revoked and not replaced for good. Expired tokens stay
    (rotating one renews it); a rotated one stays through its overlap."""
    return Q(revoked_at__isnull=True) & (Q(rotated_at__isnull=True) | Q(expires_at__gt=now))


def _narrow(
    tokens: QuerySet[Token], *, status: str, search: str, now: datetime | None
) -> QuerySet[Token]:
    now = now or timezone.now()
    if status == ACTIVE:
        tokens = tokens.filter(_usable(now))
    elif status == EXPIRING:
        tokens = tokens.filter(_usable(now), expires_at__lte=now + EXPIRING_WITHIN)
    elif status == NEVER_USED:
        tokens = tokens.filter(_current(now), last_used_at__isnull=True)
    elif status == INACTIVE:
        tokens = tokens.exclude(_usable(now))
    elif status != ALL:  # CURRENT, and anything unknown from a query string
        tokens = tokens.filter(_current(now))
    search = search.strip().rstrip("…").strip()[:MAX_SEARCH_LENGTH]
    if search:
        tokens = tokens.filter(Q(name__icontains=search) | Q(prefix__icontains=search))
    return tokens


def _listing(tokens: QuerySet[Token], *related: str) -> QuerySet[Token]:
    """What every token list shows, in a fixed number of queries however long it is: the row
    with its organization and whoever ended it (one query), its projects (one more)."""
    return (
        tokens.select_related("organization", "revoked_by", "rotated_by", *related)
        .prefetch_related(Prefetch("projects", queryset=Project.objects.only("id", "name")))
        .order_by("-created_at", "-id")
    )


def token_list(
    *,
    owner,
    kind: str = Token.Kind.PERSONAL,
    status: str = CURRENT,
    search: str = "",
    now: datetime | None = None,
) -> QuerySet[Token]:
    """The owner's tokens of one kind, newest first, as a queryset a Paginator can slice.

    `status` is one of TOKEN_FILTERS: `current` (the default: not revoked and not replaced for
    good, expired ones included since rotating one renews it), `active` (works now),
    `expiring` (works now, expires within 7 days), `never_used` (current, never used),
    `inactive` (revoked, rotated past its overlap, or expired) or `all`; anything else is read
    as `current`. `search` matches the name or the display prefix, ignoring case.

    Each token carries `role` (the owner's current role, which caps what it may do), and
    `state()`, `ended_at` and `ended_by` (tokens.models.Token) cost no further query.
    """
    tokens = Token.objects.filter(owner=owner, kind=kind).annotate(role=_owner_role())
    return _listing(_narrow(tokens, status=status, search=search, now=now))


def token_get_for_owner(
    *, owner, pk: int, kind: str = Token.Kind.PERSONAL, status: str = CURRENT
) -> Token:
    """One of the owner's tokens (current ones unless `status` says otherwise, e.g. ALL for a
    history page); raises Token.DoesNotExist for anyone else's."""
    return token_list(owner=owner, kind=kind, status=status).get(pk=pk)


def token_predecessors(*, token: Token) -> QuerySet[Token]:
    """The tokens this one replaced, directly or further back, newest first: one query."""
    if token.origin_id is None:
        return Token.objects.none()
    return (
        Token.objects.filter(Q(pk=token.origin_id) | Q(origin_id=token.origin_id), pk__lt=token.pk)
        .select_related("rotated_by", "revoked_by", "created_by")
        .order_by("-created_at", "-id")
    )


def token_history(*, token: Token, limit: int = 25) -> list[AuditEvent]:
    """Audit events of the token and of every token it replaced, newest first: one query, so a
    successor's page tells the whole story."""
    line = Q(token_id=token.pk)
    if token.origin_id is not None:
        older = Token.objects.filter(
            Q(pk=token.origin_id) | Q(origin_id=token.origin_id), pk__lt=token.pk
        ).values("pk")
        line |= Q(token_id__in=older)
    return list(AuditEvent.objects.filter(line).select_related("actor")[:limit])


def agent_list_for_organization(
    *, organization, status: str = CURRENT, search: str = "", now: datetime | None = None
) -> QuerySet[Token]:
    """Every member's agent connections in the organization, for its admins, by member email
    then newest first; `status` and `search` as for token_list."""
    tokens = Token.objects.filter(organization=organization, kind=Token.Kind.AGENT)
    return (
        _listing(_narrow(tokens, status=status, search=search, now=now), "owner")
        .annotate(role=_owner_role())
        .order_by("owner__email", "-created_at", "-id")
    )


def agent_get_for_organization(*, organization, pk: int, status: str = CURRENT) -> Token:
    """One agent connection in the organization; Token.DoesNotExist for anything else,
    a member's general tokens included."""
    return agent_list_for_organization(organization=organization, status=status).get(pk=pk)


def project_token_list(
    *, project, status: str = ALL, search: str = "", now: datetime | None = None
) -> QuerySet[Token]:
    """A project's tokens, for the organization's owners and admins: active and inactive alike
    by default, newest first, each with who made it (`created_by`) and `role`, the role that
    caps every project token (tokens.permissions.PROJECT_TOKEN_ROLE)."""
    tokens = Token.objects.filter(project=project, kind=Token.Kind.PROJECT)
    return _listing(
        _narrow(tokens, status=status, search=search, now=now), "created_by", "project"
    ).annotate(role=Value(PROJECT_TOKEN_ROLE))


def project_list_with_tokens(*, organization, now: datetime | None = None) -> QuerySet[Project]:
    """The organization's projects by name, each with `token_count`, its working project
    tokens: one query."""
    now = now or timezone.now()
    working = Q(tokens__kind=Token.Kind.PROJECT, tokens__revoked_at__isnull=True) & (
        Q(tokens__expires_at__isnull=True) | Q(tokens__expires_at__gt=now)
    )
    return (
        Project.objects.filter(organization=organization)
        .annotate(token_count=Count("tokens", filter=working))
        .order_by("name", "id")
    )


def project_get_with_tokens(*, organization, pk: int) -> Project:
    """One project of the organization, with its `token_count` (project_list_with_tokens);
    Project.DoesNotExist otherwise."""
    return project_list_with_tokens(organization=organization).get(pk=pk)


def project_token_get(*, organization, pk: int) -> Token:
    """One project token of the organization, in any state; Token.DoesNotExist otherwise."""
    return (
        Token.objects.filter(organization=organization, kind=Token.Kind.PROJECT)
        .select_related("organization", "project", "created_by", "revoked_by", "rotated_by")
        .annotate(role=Value(PROJECT_TOKEN_ROLE))
        .get(pk=pk)
    )


# The organization's token policy.


def policy_expiry_limits(*, organization) -> tuple[int | None, bool]:
    """(maximum lifetime in days or None, whether "no expiry" is allowed), as the policy reads:
    a maximum lifetime rules out "no expiry" whatever `allow_no_expiry` says."""
    max_days = organization.token_max_lifetime_days
    return max_days, organization.allow_no_expiry and max_days is None


def policy_latest_expiry(*, organization, now: datetime | None = None) -> datetime | None:
    """The latest expiry the policy allows for a token made now: the end of the last allowed
    day (so a date picked in a form counts whole), or None without a maximum."""
    max_days = organization.token_max_lifetime_days
    if max_days is None:
        return None
    last_day = timezone.localdate(now or timezone.now()) + timedelta(days=max_days)
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def default_lifetime(kind: str) -> timedelta:
    """How long a token of this kind lasts when nobody chose (settings)."""
    days = (
        settings.AGENT_DEFAULT_EXPIRY_DAYS
        if kind == Token.Kind.AGENT
        else settings.TOKEN_DEFAULT_EXPIRY_DAYS
    )
    return timedelta(days=days)


def policy_clamp_expiry(
    *, organization, kind: str, expires_at: datetime | None, now: datetime
) -> datetime | None:
    """The nearest expiry to `expires_at` that the policy allows, for what no one chose by hand
    (a rotation's inherited expiry, a cap): the latest allowed day, or without a maximum but
    with an expiry required, the kind's default lifetime."""
    _, allow_no_expiry = policy_expiry_limits(organization=organization)
    latest = policy_latest_expiry(organization=organization, now=now)
    if expires_at is None and not allow_no_expiry:
        return latest or now + default_lifetime(kind)
    if latest is not None and expires_at is not None and expires_at > latest:
        return latest
    return expires_at


def rotation_expiry(*, token: Token, organization, now: datetime | None = None) -> datetime | None:
    """When a token rotated `now` would have its successor expire: a fresh lifetime as long as
    the token's own (created → expires; none stays none), within the organization's policy."""
    now = now or timezone.now()
    lifetime = token.expires_at - token.created_at if token.expires_at is not None else None
    return policy_clamp_expiry(
        organization=organization,
        kind=token.kind,
        expires_at=now + lifetime if lifetime is not None else None,
        now=now,
    )


def policy_exceeding_tokens(*, organization, now: datetime | None = None) -> QuerySet[Token]:
    """The organization's working tokens that the policy would not allow today: more time left
    than the maximum lifetime, or no expiry where one is required. Lowering the maximum leaves
    them as they are; tokens.services.policy_cap_tokens shortens them. Tokens in a rotation's
    overlap are left out: they end soon anyway."""
    now = now or timezone.now()
    _, allow_no_expiry = policy_expiry_limits(organization=organization)
    latest = policy_latest_expiry(organization=organization, now=now)
    exceeding = Q(pk__in=[])
    if latest is not None:
        exceeding |= Q(expires_at__gt=latest)
    if not allow_no_expiry:
        exceeding |= Q(expires_at__isnull=True)
    return (
        Token.objects.filter(_usable(now), exceeding, organization=organization)
        .filter(rotated_at__isnull=True)
        .select_related("owner", "organization", "project")
        .order_by("kind", "owner__email", "name", "id")
    )


def unused_tokens(*, organization, now: datetime | None = None) -> QuerySet[Token]:
    """Working tokens of the organization unused (or, never used, made) longer ago than its
    policy's `revoke_unused_after_days`; none when the policy is off."""
    days = organization.revoke_unused_after_days
    if days is None:
        return Token.objects.none()
    now = now or timezone.now()
    return (
        Token.objects.filter(_usable(now), organization=organization, rotated_at__isnull=True)
        .alias(seen=Coalesce("last_used_at", "created_at"))
        .filter(seen__lt=now - timedelta(days=days))
        .select_related("owner", "organization", "project")
        .order_by("id")
    )


def reminder_due(*, kind: str, now: datetime | None = None) -> QuerySet[Token]:
    """Tokens due a reminder of `kind` (ExpiryReminder.Kind) that have not had it: expiring in
    1 to 7 days (WEEK), within a day (DAY), or expired in the last 7 days (EXPIRED, so the first
    run after an expiry still tells, but a new installation does not email about old ones).
    Revoked and rotated tokens get none; who hears is the sender's business."""
    now = now or timezone.now()
    windows = {
        ExpiryReminder.Kind.WEEK: (now + timedelta(days=1), now + timedelta(days=7)),
        ExpiryReminder.Kind.DAY: (now, now + timedelta(days=1)),
        ExpiryReminder.Kind.EXPIRED: (now - timedelta(days=7), now),
    }
    after, until = windows[kind]
    return (
        Token.objects.filter(
            revoked_at__isnull=True,
            rotated_at__isnull=True,
            expires_at__gt=after,
            expires_at__lte=until,
        )
        .exclude(reminders__kind=kind)
        .select_related("owner", "organization", "project")
        .order_by("expires_at", "id")
    )


def tokens_working_by_digest(*, digests: set[str], now: datetime | None = None):
    """The working tokens among these digests (a leak report), with what their emails need."""
    return (
        Token.objects.filter(_usable(now or timezone.now()), digest__in=digests)
        .select_related("owner", "organization", "project")
        .order_by("id")
    )


def organization_overseer_emails(*, organization_id: int) -> list[str]:
    """The addresses of the organization's active owners and admins, for what concerns its
    project tokens."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization_id=organization_id,
            memberships__role__in=[Role.OWNER, Role.ADMIN],
        )
        .order_by("email")
        .values_list("email", flat=True)
    )


# The auth hot path.


@dataclass(slots=True)
class TokenPrincipal:
    """An authenticated token as the hot path sees it: plain values from one query, no model.

    `owner` and `organization` are model instances built from the same row, with every other
    field deferred, so reading them costs nothing and writing through them works as usual. A
    project token has no owner (`owner_id` and `owner` are None) and the role
    PROJECT_TOKEN_ROLE, whoever made it.
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
    rotated_at: datetime | None
    last_used_at: datetime | None
    last_rejected_at: datetime | None
    owner_id: int | None
    owner_email: str | None
    owner_name: str | None
    owner_active: bool
    organization_id: int
    organization_slug: str
    organization_name: str
    role: str | None
    # False when the organization requires two factors and the owner has none.
    two_factor_ok: bool
    # The organization's policy: /mcp takes agent connections only.
    agent_connections_required: bool = False
    project_id: int | None = None
    # Token.allowed_ips as stored ("" for anywhere); tokens.ipallow reads it.
    allowed_ips: str = ""
    # The scopes this request's operation needed (tokens.permissions.require notes them).
    accepted_scopes: list[str] = field(default_factory=list)
    _owner: User | None = field(default=None, repr=False)
    _organization: Organization | None = field(default=None, repr=False)

    @property
    def owner(self) -> User | None:
        if self._owner is None and self.owner_id is not None:
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
    # bound parameter. The factor check runs only for organizations that require two factors,
    # and never for a project token, which has no owner (hence the LEFT JOIN on the user).
    return (
        "SELECT t.id, t.kind, t.name, t.prefix, t.scopes, t.all_projects, t.created_at,"  # noqa: S608
        " t.expires_at, t.revoked_at, t.rotated_at, t.last_used_at, t.last_rejected_at,"
        " t.owner_id, u.email, u.name, u.is_active, t.organization_id, o.slug, o.name, m.role,"
        " CASE WHEN o.require_two_factor AND t.owner_id IS NOT NULL THEN EXISTS (SELECT 1 FROM"
        f" {authenticator} a WHERE a.user_id = t.owner_id AND a.type IN ({factors}))"
        " ELSE TRUE END,"
        " o.require_agent_connections, t.project_id, t.allowed_ips"
        f" FROM {token} t"
        f" LEFT JOIN {user} u ON u.id = t.owner_id"
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
    """The token with this digest, its owner, organization and policy, and the owner's role:
    one query.

    Hand-written SQL on purpose: this runs on every API request, and building three model
    instances through the ORM costs more than the database round trip itself.
    """
    with _auth_cursor() as cursor:
        cursor.execute(_AUTH_SQL, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, kind, name, prefix, scopes, all_projects, created_at, expires_at, revoked_at, rotated_at,
     last_used_at, last_rejected_at, owner_id, email, owner_name, active, org_id, slug, org_name,
     role, two_factor_ok, agent_connections_required, project_id, allowed_ips) = row  # fmt: skip
    if owner_id is None:  # a project token: the project's, not a person's
        role, active = PROJECT_TOKEN_ROLE, True
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
        rotated_at=_aware(rotated_at),
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
        agent_connections_required=bool(agent_connections_required),
        project_id=project_id,
        allowed_ips=allowed_ips or "",
    )
