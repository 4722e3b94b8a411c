from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils import timezone

from core.middleware import request_id_var

from .models import AuditEvent

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation

Event = AuditEvent.Event


ACCOUNT_EVENTS = frozenset(
    {
        Event.SIGNED_IN,
        Event.PASSWORD_CHANGED,
        Event.PASSWORD_RESET,
        Event.EMAIL_CHANGED,
        Event.EMAIL_ADDED,
        Event.EMAIL_REMOVED,
        Event.FACTOR_ADDED,
        Event.FACTOR_REMOVED,
        Event.RECOVERY_CODES,
    }
)


class Recorded(Protocol):
    """What the log keeps of a token: a Token, or the bearer check's TokenPrincipal."""

    pk: int
    prefix: str
    organization_id: int
    owner_id: int | None


def audit_record(
    *,
    event: str,
    token: Recorded | None = None,
    subject_id: int | None = None,
    organization_id: int | None = None,
    actor_id: int | None = None,
    actor: "User | None" = None,
    action: str = "",
    status: int | None = None,
    ip: str | None = None,
    user_agent: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one event: about a token (a Token or the middleware's TokenPrincipal), whose owner
    and organization it takes, or about an account (`subject_id`) or an organization. Who did
    it is `actor` (or its `actor_id`); nobody for the shell, a policy or a report. An event a
    request caused carries its request id (X-Request-Id), to find it in the logs."""
    detail = dict(detail or {})
    if (request_id := request_id_var.get()) != "-":
        detail.setdefault("request_id", request_id)
    return AuditEvent.objects.create(
        event=event,
        organization_id=organization_id or getattr(token, "organization_id", None),
        subject_id=subject_id or getattr(token, "owner_id", None),
        actor_id=actor.pk if actor is not None else actor_id,
        token_id=getattr(token, "pk", None),
        token_prefix=getattr(token, "prefix", ""),
        action=action[:200],
        status=status,
        ip=ip,
        user_agent=user_agent[:255],
        detail=detail,
    )


def audit_write(
    *, token: Recorded, via: str, action: str, status: int, ip: str | None
) -> AuditEvent:
    """A write attempted with a token, allowed or refused: the one record REST and MCP share.
    `via` is "api" (action: method and path) or "mcp" (action: the tool); audit_record adds the
    request's id."""
    return audit_record(
        event=Event.MCP_WRITE if via == "mcp" else Event.API_WRITE,
        token=token,
        actor_id=token.owner_id,
        action=action,
        status=status,
        ip=ip,
    )


def audit_prune(*, now: datetime | None = None) -> int:
    """Delete events older than AUDIT_RETENTION_DAYS; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
