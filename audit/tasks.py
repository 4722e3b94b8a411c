"""Background work about the audit log, as django.tasks tasks."""

from django.tasks import task

from .services import audit_prune


@task
def prune() -> int:
    """Delete events past AUDIT_RETENTION_DAYS (settings.TASK_SCHEDULES: daily)."""
    return audit_prune()
