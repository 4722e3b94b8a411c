"""The database queue in a test (the `queue` fixture is in conftest.py): its worker, run in this
process, and its rows."""

import signal

from django.core.management import call_command
from django.test import TestCase
from django_tasks_db.models import DBTaskResult


def work(monkeypatch) -> int:
    """Run every task that is due, through django-tasks-db's own worker in batch mode, again
    while the tasks run enqueue more (on commit); how many ran."""
    # The worker tidies the connection between tasks, which would end the test's transaction.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    ran = 0
    try:
        while (due := DBTaskResult.objects.ready().count()) > 0:
            with TestCase.captureOnCommitCallbacks(execute=True):
                call_command(
                    "db_worker", batch=True, reload=False, startup_delay=False, verbosity=0
                )
            ran += due
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return ran


def tasks(name: str) -> list[DBTaskResult]:
    """The queue's rows for the task `name` (its function's name), oldest first."""
    rows = DBTaskResult.objects.filter(task_path__endswith=f".{name}").order_by("enqueued_at")
    return list(rows)
