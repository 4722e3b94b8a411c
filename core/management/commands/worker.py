import logging
import signal
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, connections

from core.schedules import schedules_loop, schedules_tick

logger = logging.getLogger(__name__)

# Seconds between tries while the database is away: soon at first, then every half a minute.
RETRY_DELAYS = (1, 2, 5, 10, 30)


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
        failures = 0
        while True:
            started = time.monotonic()
            try:
                self.run_tasks(batch=batch, interval=interval, **options)
                return
            except (OperationalError, InterfaceError):
                if batch:
                    raise  # a run from cron reports the outage; the next run tries again
                # db_worker ends on a database error; the queue is in the database, so the
                # worker waits for it instead (a restarted PostgreSQL, a failover).
                if time.monotonic() - started > 60:
                    failures = 0  # a new outage: start again with the shortest wait
                wait = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                logger.warning(
                    "Database unreachable; the worker tries again in %d s", wait, exc_info=True
                )
                connections.close_all()
                # db_worker's own handlers only ask a running loop to stop: while this one
                # waits, SIGTERM and Ctrl-C end the process, as no task is in hand.
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                time.sleep(wait)

    def run_tasks(self, *, batch: bool, interval: float, **options: Any) -> None:
        call_command(
            "db_worker",
            batch=batch,
            interval=interval,
            reload=False,  # a reload would start the schedules' thread twice
            startup_delay=not batch,
            verbosity=options["verbosity"],
        )
