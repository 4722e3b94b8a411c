"""Background work about tokens, as django.tasks tasks: run by whichever backend
settings.TASKS names, never inside the request that asked for it. Each is safe to run twice
(core/tasks.py says why that matters): only working tokens are revoked, and a reminder is
recorded per token and kind."""

from django.tasks import task

from .lifecycle import token_remind_expiring, token_revoke_unused
from .services import token_revoke_reported


@task
def revoke_reported(*, digests: list[str], ip: str | None = None, reporter: str = "") -> int:
    """Revoke the working tokens among `digests` (a leak report's, parsed in the request) and
    email their people; the arguments hold digests, never secrets, since a queue keeps them."""
    return token_revoke_reported(digests=digests, ip=ip, reporter=reporter)


@task
def revoke_unused() -> int:
    """Every organization's "revoke tokens unused for N days" (settings.TASK_SCHEDULES: daily)."""
    return token_revoke_unused()


@task
def remind_expiring() -> int:
    """The expiry reminders due (settings.TASK_SCHEDULES: daily)."""
    return token_remind_expiring()
