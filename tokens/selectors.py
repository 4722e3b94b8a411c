"""Reads: the token lists of the pages, one token for a page, rotation lines and their
history, and who hears about a token. (The hot path's one query is tokens.authentication's.)"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, TextChoices, Value
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from orgs.models import OVERSEERS, Membership, Organization
from projects.models import Project

from .models import Token, working
from .permissions import PROJECT_TOKEN_ROLE


class ListStatus(TextChoices):
    """What a token list can show (the `status` of the list selectors), as a filter names it."""

    CURRENT = "current", "Current"
    ACTIVE = "active", "Active"
    EXPIRING = "expiring", "Expiring within 7 days"
    NEVER_USED = "never_used", "Never used"
    INACTIVE = "inactive", "Ended"
    ALL = "all", "All"


CURRENT, ACTIVE, EXPIRING, NEVER_USED, INACTIVE, ALL = ListStatus
TOKEN_FILTERS: dict[str, str] = dict(ListStatus.choices)
EXPIRING_WITHIN = timedelta(days=7)
MAX_SEARCH_LENGTH = 100


def _owner_role() -> Subquery:
    """The owner's current role in the token's organization, as a subquery: no extra round trip."""
    return Subquery(
        Membership.objects.filter(
            user_id=OuterRef("owner_id"), organization_id=OuterRef("organization_id")
        ).values("role")[:1]
    )


def _current(now: datetime) -> Q:
    """Still the owner's concern: not revoked and not replaced for good. Expired tokens stay
    (rotating one renews it); a rotated one stays through its overlap."""
    return Q(revoked_at__isnull=True) & (Q(rotated_at__isnull=True) | Q(expires_at__gt=now))


def _narrow(
    tokens: QuerySet[Token], *, status: str, search: str, now: datetime | None
) -> QuerySet[Token]:
    now = now or timezone.now()
    if status == ACTIVE:
        tokens = tokens.filter(working(now))
    elif status == EXPIRING:
        tokens = tokens.filter(working(now), expires_at__lte=now + EXPIRING_WITHIN)
    elif status == NEVER_USED:
        tokens = tokens.filter(_current(now), last_used_at__isnull=True)
    elif status == INACTIVE:
        tokens = tokens.exclude(working(now))
    elif status != ALL:  # CURRENT, and anything unknown from a query string
        tokens = tokens.filter(_current(now))
    search = search.strip().rstrip("…").strip()[:MAX_SEARCH_LENGTH]
    if search:
        # An older secret still working is listed under its successor (token_lines), so its
        # prefix finds the successor too: the one it replaced, or the first of the line.
        tokens = tokens.filter(
            Q(name__icontains=search)
            | Q(prefix__icontains=search)
            | Q(replaces__prefix__icontains=search)
            | Q(origin__prefix__icontains=search)
        )
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
    owner: User,
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


def token_predecessors(*, token: Token) -> QuerySet[Token]:
    """The tokens this one replaced, directly or further back, newest first: one query."""
    if token.origin_id is None:
        return Token.objects.none()
    return (
        Token.objects.filter(Q(pk=token.origin_id) | Q(origin_id=token.origin_id), pk__lt=token.pk)
        .select_related("rotated_by", "revoked_by", "created_by")
        .order_by("-created_at", "-id")
    )


def token_lines(tokens: QuerySet[Token], *, now: datetime | None = None) -> QuerySet[Token]:
    """A list's rows, one per rotation line: a rotated token still working through its overlap
    is left out while its successor works too, since it is shown under it (token_previous)."""
    now = now or timezone.now()
    return tokens.exclude(
        Q(rotated_at__isnull=False) & working(now) & working(now, "replaced_by__")
    )


def token_previous(tokens: Iterable[Token], *, now: datetime | None = None) -> list[Token]:
    """The rows, each given `previous`: the older secrets of its rotation line that still work
    (through a rotation's overlap), newest first. One query for a whole page, none without a
    rotated row."""
    rows = list(tokens)
    lines = {row.origin_id for row in rows if row.origin_id is not None}
    older: list[Token] = []
    if lines:
        older = list(
            Token.objects.filter(
                working(now or timezone.now()),
                Q(pk__in=lines) | Q(origin_id__in=lines),
                rotated_at__isnull=False,
            ).order_by("-created_at", "-id")
        )
    for row in rows:
        row.previous = [  # type: ignore[attr-defined]
            token
            for token in older
            if (token.origin_id or token.pk) == row.origin_id and token.pk < row.pk
        ]
    return rows


def token_previous_working(*, token: Token) -> list[Token]:
    """The older secrets of the token's rotation line that still work, newest first: what
    revoking only this one would leave working. One query (none for a token never rotated)."""
    return token_previous([token])[0].previous  # type: ignore[attr-defined]


def token_history(*, token: Token, limit: int = 25) -> list[AuditEvent]:
    """Audit events of the token and of every token it replaced, newest first: one query, so a
    successor's page tells the whole story."""
    line = Q(token_id=token.pk)
    if token.origin_id is not None:
        line |= Q(token_id__in=token_predecessors(token=token).values("pk"))
    return list(AuditEvent.objects.filter(line).select_related("actor")[:limit])


def agent_list_for_organization(
    *,
    organization: Organization,
    status: str = CURRENT,
    search: str = "",
    now: datetime | None = None,
) -> QuerySet[Token]:
    """Every member's agent connections in the organization, for its admins, by member email
    then newest first; `status` and `search` as for token_list."""
    tokens = Token.objects.filter(organization=organization, kind=Token.Kind.AGENT)
    return (
        _listing(_narrow(tokens, status=status, search=search, now=now), "owner")
        .annotate(role=_owner_role())
        .order_by("owner__email", "-created_at", "-id")
    )


def project_token_list(
    *, project: Project, status: str = ALL, search: str = "", now: datetime | None = None
) -> QuerySet[Token]:
    """A project's tokens, for the organization's owners and admins: active and inactive alike
    by default, newest first, each with who made it (`created_by`) and `role`, the role that
    caps every project token (tokens.permissions.PROJECT_TOKEN_ROLE)."""
    tokens = Token.objects.filter(project=project, kind=Token.Kind.PROJECT)
    return _listing(
        _narrow(tokens, status=status, search=search, now=now), "created_by", "project"
    ).annotate(role=Value(PROJECT_TOKEN_ROLE))


def project_list_with_tokens(
    *, organization: Organization, now: datetime | None = None
) -> QuerySet[Project]:
    """The organization's projects by name, each with `token_count`, its working project
    tokens: one query."""
    now = now or timezone.now()
    counted = Q(tokens__kind=Token.Kind.PROJECT) & working(now, "tokens__")
    return (
        Project.objects.filter(organization=organization)
        .annotate(token_count=Count("tokens", filter=counted))
        .order_by("name", "id")
    )


def project_get_with_tokens(*, organization: Organization, pk: int) -> Project:
    """One project of the organization, with its `token_count` (project_list_with_tokens);
    Project.DoesNotExist otherwise."""
    return project_list_with_tokens(organization=organization).get(pk=pk)


def token_recipients(token: Token, *, reminders: bool = False) -> list[str]:
    """Who hears about a token: its owner while active, or for a project token the
    organization's active owners and admins. With `reminders`, only those who keep expiry
    reminders on (User.token_expiry_reminders)."""
    if token.kind == Token.Kind.PROJECT:
        overseers = Membership.objects.filter(
            organization_id=token.organization_id, role__in=OVERSEERS, user__is_active=True
        )
        if reminders:
            overseers = overseers.filter(user__token_expiry_reminders=True)
        return list(overseers.order_by("user__email").values_list("user__email", flat=True))
    owner = token.owner
    if owner is None or not owner.is_active or (reminders and not owner.token_expiry_reminders):
        return []
    return [owner.email]


def token_digests_issued(*, digests: list[str]) -> set[str]:
    """Which of these digests belong to a token Tessera issued, in any state: what a secret
    scanner's feedback calls a true positive. One indexed query."""
    if not digests:
        return set()
    return set(Token.objects.filter(digest__in=digests).values_list("digest", flat=True))
