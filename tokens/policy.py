"""The organization's token policy, in one place: what it allows a new token (lifetime, "no
expiry"), what a rotation inherits, which existing tokens it would not allow today, and the
owners' changes to it.

The settings themselves are fields of orgs.Organization; this module is what they mean for
tokens. Forms offer only what `expiry_limits` allows; `check_expiry` is what a bypassed form
meets; `policy_update` and `policy_cap_tokens` are the owners' actions (the callers check that
the person is an owner).
"""

import enum
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import Event, audit_record
from core.emails import send_on_commit
from orgs.models import Organization

from . import emails
from .models import Token, working
from .selectors import token_recipients

POLICY_MAX_DAYS = 3650


class _Keep(enum.Enum):
    KEEP = "keep"


# policy_update's "leave this setting as it is" (None already means "no maximum").
KEEP = _Keep.KEEP


class ExpiryNotAllowed(Exception):
    """An expiry the policy (or the calendar) refuses; `message` says what would be allowed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def default_lifetime(kind: str) -> timedelta:
    """How long a token of this kind lasts when nobody chose (settings): 90 days for an agent
    connection (rule 8), 30 for the others."""
    days = (
        settings.AGENT_DEFAULT_EXPIRY_DAYS
        if kind == Token.Kind.AGENT
        else settings.TOKEN_DEFAULT_EXPIRY_DAYS
    )
    return timedelta(days=days)


def expiry_limits(organization: Organization) -> tuple[int | None, bool]:
    """(maximum lifetime in days or None, whether "no expiry" is allowed), as the policy reads:
    a maximum lifetime rules out "no expiry" whatever `allow_no_expiry` says."""
    max_days = organization.token_max_lifetime_days
    return max_days, organization.allow_no_expiry and max_days is None


def latest_expiry(organization: Organization, now: datetime | None = None) -> datetime | None:
    """The latest expiry the policy allows for a token made now: the end of the last allowed
    day (so a date picked in a form counts whole), or None without a maximum."""
    max_days = organization.token_max_lifetime_days
    if max_days is None:
        return None
    last_day = timezone.localdate(now or timezone.now()) + timedelta(days=max_days)
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def expiry_note(organization: Organization) -> str:
    """What the policy says about expiry, in words, for under a form's expiry choice."""
    max_days, no_expiry = expiry_limits(organization)
    if max_days is not None:
        return f"{organization.name}’s policy: tokens expire within {max_days} days."
    if not no_expiry:
        return f"{organization.name}’s policy: every token needs an expiry."
    return ""


def check_expiry(*, organization: Organization, expires_at: datetime | None, now: datetime) -> None:
    """The expiry is in the future and within the policy; ExpiryNotAllowed saying why not."""
    if expires_at is not None and expires_at <= now:
        raise ExpiryNotAllowed("The expiry must be in the future.")
    max_days, allow_no_expiry = expiry_limits(organization)
    if expires_at is None and not allow_no_expiry:
        most = f" of at most {max_days} days" if max_days else ""
        raise ExpiryNotAllowed(
            f"{organization.name}’s token policy requires an expiry{most}: choose one."
        )
    latest = latest_expiry(organization, now)
    if latest is not None and expires_at is not None and expires_at > latest:
        last_day = timezone.localdate(latest - timedelta(microseconds=1)).strftime("%b %-d, %Y")
        raise ExpiryNotAllowed(
            f"{organization.name}’s token policy allows tokens to last at most {max_days} days: "
            f"pick an expiry on or before {last_day}."
        )


def clamp_expiry(
    *, organization: Organization, kind: str, expires_at: datetime | None, now: datetime
) -> datetime | None:
    """The nearest expiry to `expires_at` that the policy allows, for what no one chose by hand
    (a rotation's inherited expiry, a cap): the latest allowed day, or without a maximum but
    with an expiry required, the kind's default lifetime."""
    _, allow_no_expiry = expiry_limits(organization)
    latest = latest_expiry(organization, now)
    if expires_at is None and not allow_no_expiry:
        return latest or now + default_lifetime(kind)
    if latest is not None and expires_at is not None and expires_at > latest:
        return latest
    return expires_at


def rotation_expiry(*, token: Token, now: datetime | None = None) -> datetime | None:
    """When a token rotated `now` would have its successor expire: a fresh lifetime as long as
    the token's own (created → expires; none stays none), within its organization's policy."""
    now = now or timezone.now()
    lifetime = token.expires_at - token.created_at if token.expires_at is not None else None
    return clamp_expiry(
        organization=token.organization,
        kind=token.kind,
        expires_at=now + lifetime if lifetime is not None else None,
        now=now,
    )


def policy_exceeding_tokens(
    *, organization: Organization, now: datetime | None = None
) -> QuerySet[Token]:
    """The organization's working tokens that the policy would not allow today: more time left
    than the maximum lifetime, or no expiry where one is required. Lowering the maximum leaves
    them as they are; policy_cap_tokens shortens them. Tokens in a rotation's overlap are left
    out: they end soon anyway."""
    now = now or timezone.now()
    _, allow_no_expiry = expiry_limits(organization)
    latest = latest_expiry(organization, now)
    exceeding = Q(pk__in=[])
    if latest is not None:
        exceeding |= Q(expires_at__gt=latest)
    if not allow_no_expiry:
        exceeding |= Q(expires_at__isnull=True)
    return (
        Token.objects.filter(working(now), exceeding, organization=organization)
        .filter(rotated_at__isnull=True)
        .select_related("owner", "organization", "project")
        .order_by("kind", "owner__email", "name", "id")
    )


def unused_tokens(*, organization: Organization, now: datetime | None = None) -> QuerySet[Token]:
    """Working tokens of the organization unused (or, never used, made) longer ago than its
    policy's `revoke_unused_after_days`; none when the policy is off."""
    days = organization.revoke_unused_after_days
    if days is None:
        return Token.objects.none()
    now = now or timezone.now()
    return (
        Token.objects.filter(working(now), organization=organization, rotated_at__isnull=True)
        .alias(seen=Coalesce("last_used_at", "created_at"))
        .filter(seen__lt=now - timedelta(days=days))
        .select_related("owner", "organization", "project")
        .order_by("id")
    )


# The owners' actions.


def _days(value: Any, field: str, *, least: int) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not least <= value <= POLICY_MAX_DAYS
    ):
        raise ValidationError(
            {field: f"Choose a whole number of days from {least} to {POLICY_MAX_DAYS}."}
        )
    return value


MAX_OAUTH_CLIENTS = 50


def _clients(value: Any) -> str:
    """The allowed OAuth clients, one a line, without blanks or repeats."""
    if not isinstance(value, str):
        raise ValidationError({"oauth_clients": "List one client a line."})
    entries = list(dict.fromkeys(line.strip() for line in value.splitlines() if line.strip()))
    if len(entries) > MAX_OAUTH_CLIENTS:
        raise ValidationError({"oauth_clients": f"List at most {MAX_OAUTH_CLIENTS} clients."})
    for entry in entries:
        if len(entry) > 255 or any(c.isspace() for c in entry) or not entry.isprintable():
            raise ValidationError(
                {"oauth_clients": f"“{entry[:60]}” is not a client ID or a host: one a line."}
            )
    return "\n".join(entries)


def _checked(wanted: dict[str, Any]) -> dict[str, Any]:
    """The settings policy_update was given, checked (ValidationError naming the field) and
    normalised."""
    if "oauth_clients" in wanted:
        wanted["oauth_clients"] = _clients(wanted["oauth_clients"])
    for name in ("require_two_factor", "allow_no_expiry", "require_agent_connections",
                 "allow_oauth_agents"):  # fmt: skip
        if name in wanted and not isinstance(wanted[name], bool):
            raise ValidationError({name: "Choose yes or no."})
    if "token_max_lifetime_days" in wanted:
        _days(wanted["token_max_lifetime_days"], "token_max_lifetime_days", least=1)
    if "revoke_unused_after_days" in wanted:
        _days(wanted["revoke_unused_after_days"], "revoke_unused_after_days", least=7)
    return wanted


def policy_update(
    *,
    organization: Organization,
    by: Any,
    require_two_factor: bool | _Keep = KEEP,
    token_max_lifetime_days: int | _Keep | None = KEEP,
    allow_no_expiry: bool | _Keep = KEEP,
    require_agent_connections: bool | _Keep = KEEP,
    revoke_unused_after_days: int | _Keep | None = KEEP,
    allow_oauth_agents: bool | _Keep = KEEP,
    oauth_clients: str | _Keep = KEEP,
) -> bool:
    """Change the organization's token policy (owners only: the caller checks); audited with
    what changed. Returns whether anything did. Leave a setting out (KEEP) to keep it; None
    turns a number of days off.

    - `token_max_lifetime_days`: the longest a new personal token, agent connection or project
      token may last (1 to 3650; None: no maximum). A maximum also rules out "no expiry".
    - `allow_no_expiry`: whether tokens may never expire (when there is no maximum).
    - `require_agent_connections`: /mcp refuses personal and project tokens.
    - `revoke_unused_after_days`: the daily job revokes tokens unused this long (7 to 3650).
    - `allow_oauth_agents`: MCP clients may connect themselves through OAuth (the oauth app).
    - `oauth_clients`: if not empty, only these may: client ids or redirect hosts, one a line.

    Lowering the maximum does not shorten existing tokens: see policy_exceeding_tokens and
    policy_cap_tokens. Bad values raise ValidationError naming the field.
    """
    wanted = {
        "require_two_factor": require_two_factor,
        "token_max_lifetime_days": token_max_lifetime_days,
        "allow_no_expiry": allow_no_expiry,
        "require_agent_connections": require_agent_connections,
        "revoke_unused_after_days": revoke_unused_after_days,
        "allow_oauth_agents": allow_oauth_agents,
        "oauth_clients": oauth_clients,
    }
    wanted = _checked({name: value for name, value in wanted.items() if value is not KEEP})
    changed = {
        name: value for name, value in wanted.items() if getattr(organization, name) != value
    }
    if not changed:
        return False
    if changed.get("require_two_factor") and not by.has_two_factors:
        raise ValidationError(
            {"require_two_factor": "Turn on two-factor authentication for your own account first."}
        )
    for name, value in changed.items():
        setattr(organization, name, value)
    organization.save(update_fields=list(changed))
    audit_record(
        event=Event.POLICY_CHANGED,
        organization_id=organization.pk,
        actor=by,
        detail=changed,
    )
    return True


def policy_cap_tokens(*, organization: Organization, by: Any) -> int:
    """Bring every token that exceeds the policy (policy_exceeding_tokens) within it, in one
    action (owners only: the caller checks): each now expires at the latest day the maximum
    allows from today, or, where an expiry is required without a maximum, after its kind's
    default lifetime. Audited per token; each owner (a project token's overseers) gets one
    email listing theirs. Returns how many were shortened."""
    now = timezone.now()
    capped: list[Token] = []
    with transaction.atomic():
        for token in policy_exceeding_tokens(organization=organization, now=now):
            if _cap(token, by=by, now=now):
                capped.append(token)
        by_recipient: dict[str, list[Token]] = defaultdict(list)
        for token in capped:
            for address in token_recipients(token):
                by_recipient[address].append(token)

        def tell() -> None:
            for address, theirs in by_recipient.items():
                emails.tokens_capped(to=address, tokens=theirs, organization=organization)

        send_on_commit(tell)
    return len(capped)


def _cap(token: Token, *, by: Any, now: datetime) -> bool:
    new = clamp_expiry(
        organization=token.organization, kind=token.kind, expires_at=token.expires_at, now=now
    )
    if new is None or (token.expires_at is not None and token.expires_at <= new):
        return False
    # Conditional: a token rotated or revoked meanwhile is left alone.
    updated = Token.objects.filter(
        pk=token.pk, revoked_at__isnull=True, rotated_at__isnull=True
    ).update(expires_at=new)
    if not updated:
        return False
    before, token.expires_at = token.expires_at, new
    audit_record(
        event=Event.TOKEN_CAPPED,
        token=token,
        actor=by,
        detail={
            "name": token.name,
            "from": before.isoformat() if before else None,
            "to": new.isoformat(),
        },
    )
    return True
