"""The daily jobs of a token's life: reminders before and after it expires, and the
organization's "revoke tokens unused for N days". Run daily by the worker's schedules
(tokens.tasks, settings.TASK_SCHEDULES), or by `manage.py notify_expiring`."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from orgs.models import Organization

from . import emails
from .models import ExpiryReminder, Token
from .policy import unused_tokens
from .selectors import token_recipients
from .services import token_revoke_many


def reminder_due(*, kind: str, now: datetime | None = None) -> QuerySet[Token]:
    """Tokens due a reminder of `kind` (ExpiryReminder.Kind) that have not had it: expiring in
    1 to 7 days (WEEK), within a day (DAY), or expired in the last 7 days (EXPIRED, so the first
    run after an expiry still tells, but a new installation does not email about old ones).
    Revoked and rotated tokens get none."""
    now = now or timezone.now()
    windows = {
        ExpiryReminder.Kind.WEEK: (now + timedelta(days=1), now + timedelta(days=7)),
        ExpiryReminder.Kind.DAY: (now, now + timedelta(days=1)),
        ExpiryReminder.Kind.EXPIRED: (now - timedelta(days=7), now),
    }
    after, until = windows[ExpiryReminder.Kind(kind)]
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


def token_remind_expiring(*, now: datetime | None = None) -> int:
    """Email about tokens that expire within 7 days, within a day, and that have expired, each
    kind at most once per token (ExpiryReminder records it, so a second run the same day sends
    nothing new); returns how many emails went out. Owners who turned reminders off
    (User.token_expiry_reminders) get none; a project token's reminders go to the organization's
    owners and admins who have them on."""
    now = now or timezone.now()
    sent = 0
    # Most urgent first: a token within a day of expiry gets that reminder, not the 7-day one.
    for kind in (ExpiryReminder.Kind.EXPIRED, ExpiryReminder.Kind.DAY, ExpiryReminder.Kind.WEEK):
        for token in reminder_due(kind=kind, now=now):
            to = token_recipients(token, reminders=True)
            # Recorded with the email's task, which is enqueued once this commits (and retries
            # the send itself): two runs at once record, and so enqueue, one.
            with transaction.atomic():
                _, created = ExpiryReminder.objects.get_or_create(
                    token=token, kind=kind, defaults={"sent_at": now}
                )
                if created and to:
                    emails.token_expiry_reminder(token=token, kind=kind, to=to)
                    sent += 1
    return sent


def token_revoke_unused(*, now: datetime | None = None) -> int:
    """Run every organization's "revoke tokens unused for N days" policy; returns how many were
    revoked. Each is audited ("unused for N days") and its owner (or a project token's
    overseers) emailed."""
    now = now or timezone.now()
    revoked = 0
    for organization in Organization.objects.filter(revoke_unused_after_days__isnull=False):
        days = organization.revoke_unused_after_days
        why = (
            f"it was unused for {days} days, and {organization.name}’s token policy revokes "
            "tokens unused that long"
        )
        revoked += token_revoke_many(
            tokens=unused_tokens(organization=organization, now=now),
            label="policy",
            reason=f"unused for {days} days",
            why=why,
        )
    return revoked
