"""The real thing: `manage.py worker` in a process of its own runs what a request enqueued on
the database queue, and the schedules beside it; `make run`'s supervisor stops what it started
together."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from core.models import ScheduledRun
from core.supervise import _stop
from tests.factories import make_token

ROOT = Path(django_settings.BASE_DIR)


def worker_database_url(tmp_path: Path) -> str:
    """The test database as the worker's process can reach it: SQLite's in-memory test database
    copied to a file, PostgreSQL's by name."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        path = tmp_path / "queue.sqlite3"
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        return f"sqlite:///{path}"
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def copy_back(url: str) -> None:
    """What the worker wrote to the file, back in the test's in-memory database."""
    if connection.vendor == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as written:
            written.backup(connection.connection)


@pytest.mark.django_db(transaction=True)
def test_a_task_a_request_enqueued_is_run_by_a_real_worker(client, user, org, queue, tmp_path):
    token, secret = make_token(owner=user, organization=org)
    DBTaskResult.objects.all().delete()  # its "new token" email
    report = {"credentials": [secret]}
    response = client.post("/api/v1/credentials/revoke", report, content_type="application/json")
    assert response.status_code == 202
    (reported,) = DBTaskResult.objects.all()  # the request did one thing: enqueue
    assert reported.status == TaskResultStatus.READY and reported.task_path.endswith("reported")

    url = worker_database_url(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0"}
    env.pop("TASKS_BACKEND", None)  # the default: the database queue
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "worker", "--batch", "--verbosity", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=15, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started < 15
    copy_back(url)

    token.refresh_from_db()
    assert token.revoked_at is not None
    # The leak report's task revoked the token and enqueued its email; the worker sent it once.
    assert done.stderr.count(f"To: {user.email}") == 1 and token.prefix in done.stderr
    assert secret[8:] not in done.stderr
    statuses = set(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {TaskResultStatus.SUCCESSFUL}
    # and, beside the tasks, the schedules: each daily job once.
    assert ScheduledRun.objects.count() == len(django_settings.TASK_SCHEDULES)


def supervise(*commands: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "core.supervise", *commands], cwd=ROOT, start_new_session=True
    )


def test_the_supervisor_stops_every_command_when_one_ends():
    supervisor = supervise("sleep 60", f"{sys.executable} -c 'raise SystemExit(3)'")
    # It stopped `sleep` and waited for it, and says how the other ended.
    assert supervisor.wait(timeout=10) == 3


def test_the_supervisor_stops_every_command_on_ctrl_c():
    supervisor = supervise("sleep 60", "sleep 60")
    children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children")

    def started() -> int:
        names = [Path(f"/proc/{pid}/comm") for pid in children.read_text().split()]
        return sum(1 for name in names if name.exists() and name.read_text().strip() == "sleep")

    deadline = time.monotonic() + 10
    while started() < 2 and time.monotonic() < deadline:
        pass  # until both run `sleep` (its signal handlers are set by then)
    os.killpg(supervisor.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    assert supervisor.wait(timeout=10) == 0


def test_a_ctrl_c_while_the_commands_start_still_stops_them_all():
    children = []
    for step in range(20):
        supervisor = supervise("sleep 60", "sleep 60")
        listing = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children")
        deadline = time.monotonic() + 10
        while not listing.read_text().split() and time.monotonic() < deadline:
            pass  # the first command is being started: its signal handlers are set
        until = time.monotonic() + step / 2000  # somewhere in the next 10 ms
        while time.monotonic() < until:
            pass
        os.killpg(supervisor.pid, signal.SIGINT)
        children += listing.read_text().split() if supervisor.poll() is None else []
        assert supervisor.wait(timeout=10) == 0
    # Not one `sleep` outlived its supervisor.
    assert not any(Path(f"/proc/{pid}/comm").exists() for pid in children)


def test_a_command_without_a_process_group_of_its_own_is_stopped_by_itself():
    command = subprocess.Popen(["sleep", "60"])  # in the test's group, not its own
    _stop([command], grace=5)
    assert command.returncode == -signal.SIGINT
