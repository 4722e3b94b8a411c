from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from orgs.models import Organization

from .models import AuditEvent
from .services import ACCOUNT_EVENTS

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation

Event = AuditEvent.Event
# What the Security tab lists: the account's own changes, and credentials minted or ended.
SECURITY_EVENTS = ACCOUNT_EVENTS | {
    Event.TOKEN_CREATED,
    Event.AGENT_CONNECTED,
    Event.TOKEN_ROTATED,
    Event.TOKEN_REVOKED,
}


def audit_list(
    *,
    organization: Organization,
    member_id: int | None = None,
    token_prefix: str = "",
    event: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """An organization's events, newest first, narrowed by the filters given."""
    events = AuditEvent.objects.filter(organization=organization).select_related("subject", "actor")
    if member_id:
        events = events.filter(subject_id=member_id)
    if token_prefix:
        events = events.filter(token_prefix__startswith=token_prefix.strip().rstrip("…"))
    if event:
        events = events.filter(event=event)
    if since:
        events = events.filter(
            created_at__gte=timezone.make_aware(datetime.combine(since, time.min))
        )
    if until:
        end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
        events = events.filter(created_at__lt=end)
    return events


def security_events(*, user: "User", limit: int = 20) -> list[AuditEvent]:
    """The account's recent security events, newest first, for its Settings → Security tab."""
    return list(
        AuditEvent.objects.filter(subject=user, event__in=SECURITY_EVENTS).select_related(
            "actor", "organization"
        )[:limit]
    )
