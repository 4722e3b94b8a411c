"""The periodic jobs without cron, and the tasks whose worker died.

`schedules_enqueue` may run on every host at once: for each job of settings.TASK_SCHEDULES it
inserts a ScheduledRun for the job and the current period, and only the insert that wins the
unique constraint enqueues the task, in the same transaction (with the database queue, the claim
and the task commit together or not at all). `tasks_reclaim` puts back in the queue a task that a
worker claimed and has not finished within settings.TASKS_LEASE_SECONDS: django-tasks-db leaves
such a task "running" for ever. `manage.py worker` runs both every
settings.TASKS_SCHEDULE_TICK_SECONDS; `manage.py run_schedules` runs them once, for cron.
"""

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, Task, task_backends
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db import DatabaseBackend

from .db import retry_when_locked

logger = logging.getLogger(__name__)


def period_start(*, every: int, now: datetime) -> datetime:
    """The start of the period of `every` seconds that `now` falls in, counted from the epoch."""
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % every, tz=UTC)


def schedule_claim(*, job: str, period: datetime, task: Task) -> bool:
    """Enqueue `task` for `job`'s `period` unless another enqueuer did; whether this one did."""
    from .models import ScheduledRun

    try:
        with transaction.atomic():
            ScheduledRun.objects.create(job=job, period=period)
            task.enqueue()
    except IntegrityError:
        return False
    return True


def schedules_enqueue(*, now: datetime | None = None) -> list[str]:
    """Enqueue every scheduled job whose current period has not been enqueued; their names."""
    from .models import ScheduledRun

    now = now or timezone.now()
    enqueued = []
    schedules: dict[str, dict[str, Any]] = settings.TASK_SCHEDULES
    periods = {job: period_start(every=int(s["every"]), now=now) for job, s in schedules.items()}
    # What is claimed already, in one read: an insert would only fail on the unique constraint
    # (and have the database log the failure) on every tick of every worker.
    runs = ScheduledRun.objects.filter(period__in=set(periods.values()))
    claimed = retry_when_locked(lambda: set(runs.values_list("job", "period")))
    for job, schedule in schedules.items():
        period = periods[job]
        if (job, period) in claimed:
            continue
        task = import_string(str(schedule["task"]))
        if retry_when_locked(lambda: schedule_claim(job=job, period=period, task=task)):  # noqa: B023
            logger.info("Enqueued %s for the period from %s", job, period.isoformat())
            enqueued.append(job)
    return enqueued


def tasks_reclaim(*, now: datetime | None = None) -> int:
    """Put back in the queue the tasks claimed longer than the lease ago and still running (their
    worker died); how many."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    lease = timedelta(seconds=settings.TASKS_LEASE_SECONDS)
    abandoned = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - lease
    )
    reclaimed = retry_when_locked(lambda: abandoned.update(status=TaskResultStatus.READY))
    if reclaimed:
        logger.warning("Put %d abandoned task(s) back in the queue", reclaimed)
    return reclaimed


def schedules_tick() -> None:
    """One round of the enqueuer: due jobs, then abandoned tasks. Errors are logged, never raised,
    so that a database that is away for a moment does not stop the loop."""
    try:
        schedules_enqueue()
        # The backend itself: django.tasks.default_task_backend is a proxy, of no backend's type.
        if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
            tasks_reclaim()
    except Exception:
        logger.exception("The task schedules could not run")
    finally:
        connections.close_all()  # this thread's own connections


def schedules_loop(stop: threading.Event, *, every: float) -> None:
    """Tick every `every` seconds until `stop` is set (the worker's thread)."""
    while not stop.is_set():
        schedules_tick()
        stop.wait(every)
