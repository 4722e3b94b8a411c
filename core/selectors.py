"""Reads below every app: what the background queue's table holds, for /metrics."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, F, Min, Q, When
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max


@dataclass(frozen=True)
class TaskGroup:
    """The queue's rows of one queue, status and task: how many, how many of them are due (ready
    to run now), and since when the longest-waiting due one has been waiting."""

    queue: str
    status: str
    task: str
    count: int
    due: int
    oldest_due_since: datetime | None


def task_groups(*, now: datetime) -> list[TaskGroup]:
    """The queue's table counted by queue, status and task, in one aggregate query.

    django-tasks-db stores "no run_after" as its far-future date, so a ready task is due when
    its run_after is that date or has passed. A due task has waited since it was enqueued, or
    since its run_after when that came later (an email's retry waits its delay first).
    """
    never = get_date_max()
    due = Q(status=TaskResultStatus.READY) & (Q(run_after=never) | Q(run_after__lte=now))
    waiting_since = Case(
        When(Q(run_after=never) | Q(run_after__lte=F("enqueued_at")), then=F("enqueued_at")),
        default=F("run_after"),
    )
    rows = (
        DBTaskResult.objects.order_by()  # the model's ordering would join the GROUP BY
        .values("queue_name", "status", "task_path")
        .annotate(
            count=Count("pk"),
            due=Count("pk", filter=due),
            oldest_due_since=Min(waiting_since, filter=due),
        )
    )
    return [
        TaskGroup(
            queue=row["queue_name"],
            status=row["status"],
            task=row["task_path"],
            count=row["count"],
            due=row["due"],
            oldest_due_since=row["oldest_due_since"],
        )
        for row in rows
    ]
