import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.schedules import schedules_loop, schedules_tick


class Command(BaseCommand):
    help = (
        "Run background tasks from the database queue (django-tasks-db's db_worker) and, beside "
        "them, the schedules (core.schedules): each scheduled job enqueued once per period however "
        "many workers run, and tasks whose worker died put back in the queue. Run one or more per "
        "host; stop with Ctrl-C or SIGTERM (the task at hand finishes first)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the schedules once, then every task, then exit.",
        )
        parser.add_argument(
            "--no-schedules",
            action="store_false",
            dest="schedules",
            help="Run tasks only (when cron runs `manage.py run_schedules` instead).",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between looks at an empty queue."
        )

    def handle(
        self, *args: Any, batch: bool, schedules: bool, interval: float, **options: Any
    ) -> None:
        if schedules and batch:
            schedules_tick()
        elif schedules:
            every = settings.TASKS_SCHEDULE_TICK_SECONDS
            stop = threading.Event()
            thread = threading.Thread(
                target=schedules_loop, args=(stop,), kwargs={"every": every}, daemon=True
            )
            thread.start()
        call_command(
            "db_worker",
            batch=batch,
            interval=interval,
            reload=False,  # a reload would start the schedules' thread twice
            startup_delay=not batch,
            verbosity=options["verbosity"],
        )
