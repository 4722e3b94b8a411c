from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent

Event = AuditEvent.Event


def audit_record(
    *,
    event: str,
    token=None,
    actor_id: int | None = None,
    action: str = "",
    status: int | None = None,
    ip: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Record one event about a token (a Token or the middleware's TokenPrincipal)."""
    return AuditEvent.objects.create(
        event=event,
        organization_id=getattr(token, "organization_id", None),
        subject_id=getattr(token, "owner_id", None),
        actor_id=actor_id,
        token_id=getattr(token, "pk", None),
        token_prefix=getattr(token, "prefix", ""),
        action=action[:200],
        status=status,
        ip=ip,
        detail=detail or {},
    )


def audit_prune(*, now=None) -> int:
    """Delete events older than AUDIT_RETENTION_DAYS; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
