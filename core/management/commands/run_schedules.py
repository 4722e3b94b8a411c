from typing import Any

from django.core.management.base import BaseCommand

from core.schedules import schedules_enqueue, tasks_reclaim


class Command(BaseCommand):
    help = (
        "Enqueue the scheduled jobs (settings.TASK_SCHEDULES) that are due, each once per period "
        "however often or on however many hosts this runs, and put back in the queue tasks whose "
        "worker died. For cron or a systemd timer, with `manage.py worker --no-schedules`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        enqueued = schedules_enqueue()
        reclaimed = tasks_reclaim()
        self.stdout.write(
            f"Enqueued {', '.join(enqueued) or 'nothing'}; "
            f"put {reclaimed} abandoned task{'s' * (reclaimed != 1)} back in the queue."
        )
