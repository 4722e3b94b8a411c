"""Background work below every app: sending an email, and tidying the queue's own tables.

Every task here, like every task of the apps above, is safe to run twice: a worker that dies
mid-task leaves it claimed, and once its lease runs out (settings.TASKS_LEASE_SECONDS,
core.schedules.tasks_reclaim) another worker runs it again.

An email is sent at least once and, but for one narrow window, at most once. Its idempotency key
is inserted in the same transaction that sends it, and committed once the mail server has taken
the message: a send that fails rolls the key back, so the retry sends; a retry after a success
finds the key and sends nothing; two workers on the same email queue on the key's unique index,
and the second finds it. Only a worker that dies after the server took the message and before
the commit leaves no key, and then the email goes twice: we chose that over recording the key
first, which would lose the email when the worker dies before sending.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .models import ScheduledRun, SentEmail

logger = logging.getLogger(__name__)


@task
def send_email(
    *,
    key: str,
    subject: str,
    text: str,
    html: str,
    to: list[str],
    from_email: str | None = None,
    headers: dict[str, str] | None = None,
    attempt: int = 1,
) -> bool:
    """Send one rendered email (core.emails.enqueue) unless `key` says it went already; whether
    this run sent it. A failed send is tried again after each of settings.EMAIL_RETRY_DELAYS."""
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=to, from_email=from_email, headers=headers
    )
    message.attach_alternative(html, "text/html")
    try:
        return email_send_once(key=key, message=message)
    except Exception:
        delays = settings.EMAIL_RETRY_DELAYS
        if attempt > len(delays) or not send_email.get_backend().supports_defer:
            logger.error("Gave up sending email %s after %d attempt(s)", key, attempt)
            raise
        then = timezone.now() + timedelta(seconds=delays[attempt - 1])
        send_email.using(run_after=then).enqueue(
            key=key, subject=subject, text=text, html=html, to=to, from_email=from_email,
            headers=headers, attempt=attempt + 1,
        )  # fmt: skip
        logger.warning("Sending email %s failed (attempt %d); will try again", key, attempt)
        raise  # this attempt is recorded as failed; the retry is its own task


def email_send_once(*, key: str, message: EmailMultiAlternatives) -> bool:
    """Send `message` and record `key` in one transaction, unless `key` is recorded already."""
    with transaction.atomic():
        _, created = SentEmail.objects.get_or_create(key=key)
        if created:
            message.send()
    return created


@task
def prune_task_results() -> int:
    """Delete finished tasks, email keys and schedule runs older than
    settings.TASKS_RESULT_RETENTION_DAYS; how many tasks went."""
    before = timezone.now() - timedelta(days=settings.TASKS_RESULT_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    SentEmail.objects.filter(sent_at__lt=before).delete()
    ScheduledRun.objects.filter(enqueued_at__lt=before).delete()
    return deleted
