"""Rule 15 on the database queue: emails are tasks, sent once, retried with backoff; the
schedules enqueue each job once per period however many enqueuers race; a task whose worker
died is run by another."""

import logging
import smtplib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.tasks.base import TaskResultStatus
from django.test import TestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import ScheduledRun, SentEmail
from core.schedules import schedules_enqueue, schedules_tick, tasks_reclaim
from core.tasks import send_email
from tests.factories import bearer, make_project
from tests.tasks import tasks, work
from tokens.services import project_token_create

pytestmark = pytest.mark.usefixtures("queue")

EMAIL = {"subject": "Hello", "text": "Hi\n", "html": "<p>Hi</p>", "to": ["ada@example.com"]}


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def smtp_down(monkeypatch):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("the mail server is down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    return monkeypatch


def test_a_request_that_emails_enqueues_the_email_and_sends_nothing(client, user, org, monkeypatch):
    project = make_project(organization=org)
    _, secret = project_token_create(
        project=project, by=user, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.delete("/api/v1/tokens/self", **bearer(secret)).status_code == 204
    assert mail.outbox == []  # nothing was sent in the request
    (queued,) = tasks("send_email")
    assert queued.status == TaskResultStatus.READY
    kwargs = queued.args_kwargs["kwargs"]
    assert kwargs["to"] == [user.email] and "revoked itself" in kwargs["text"]
    assert secret[8:] not in str(queued.args_kwargs)  # what the queue keeps holds no secret

    assert work(monkeypatch) == 1
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "revoked itself" in mail.outbox[0].body and mail.outbox[0].alternatives
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL


def test_a_retried_email_task_never_mails_twice(db, monkeypatch):
    first = send_email.enqueue(key="reminder:1", **EMAIL)
    again = send_email.enqueue(key="reminder:1", **EMAIL)  # the same email, run a second time
    assert work(monkeypatch) == 2
    assert len(mail.outbox) == 1
    assert [r.return_value for r in (first, again) if r.refresh() is None] == [True, False]
    assert SentEmail.objects.filter(key="reminder:1").count() == 1


def test_a_failed_send_is_retried_at_1_5_and_30_minutes_then_given_up(
    db, monkeypatch, smtp_down, frozen, caplog
):
    send_email.enqueue(key="notice:7", **EMAIL)
    started = timezone.now()
    for waited, delay in [(0, 60), (60, 300), (360, 1800)]:
        frozen.move_to(started + timedelta(seconds=waited))
        assert work(monkeypatch) == 1
        # The one waiting (a retry can share its enqueue time with the attempt before it, so
        # the queue's order cannot tell them apart on PostgreSQL).
        (retry,) = [t for t in tasks("send_email") if t.status == TaskResultStatus.READY]
        assert retry.run_after == timezone.now() + timedelta(seconds=delay)
        frozen.shift(timedelta(seconds=delay - 1))
        assert work(monkeypatch) == 0  # not before its time
        frozen.shift(timedelta(seconds=1))
    with caplog.at_level(logging.ERROR, logger="core.tasks"):
        assert work(monkeypatch) == 1  # the fourth attempt fails too: given up
    assert "Gave up sending email notice:7 after 4 attempt(s)" in caplog.text
    attempts = tasks("send_email")
    assert sorted(t.args_kwargs["kwargs"].get("attempt", 1) for t in attempts) == [1, 2, 3, 4]
    assert {t.status for t in attempts} == {TaskResultStatus.FAILED}
    frozen.shift(timedelta(days=1))
    assert work(monkeypatch) == 0 and mail.outbox == []
    assert not SentEmail.objects.exists()  # a failed send records no key


def test_a_send_that_works_on_its_retry_goes_once(db, monkeypatch, smtp_down, frozen):
    send_email.enqueue(key="notice:8", **EMAIL)
    assert work(monkeypatch) == 1 and mail.outbox == []
    smtp_down.undo()  # the mail server is back
    frozen.shift(timedelta(minutes=1))
    assert work(monkeypatch) == 1
    assert len(mail.outbox) == 1
    frozen.shift(timedelta(hours=1))
    assert work(monkeypatch) == 0 and len(mail.outbox) == 1


def test_a_task_whose_worker_died_is_run_by_another_worker(db, monkeypatch, settings, frozen):
    settings.TASKS_LEASE_SECONDS = 600
    settings.TASK_SCHEDULES = {}  # only the reclaiming half of the worker's tick
    result = send_email.enqueue(key="notice:9", **EMAIL)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("dead-worker")  # claimed, then its host lost power mid-task
    assert work(monkeypatch) == 0
    frozen.shift(timedelta(seconds=599))
    assert tasks_reclaim() == 0  # it might still be running
    frozen.shift(timedelta(seconds=2))
    # What every worker runs beside its tasks (but for closing its thread's connection, which
    # here is the test's own).
    monkeypatch.setattr("core.schedules.connections.close_all", lambda: None)
    schedules_tick()
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    assert work(monkeypatch) == 1
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.worker_ids[0] == "dead-worker" and len(row.worker_ids) == 2
    assert len(mail.outbox) == 1


def test_schedules_enqueue_each_job_once_a_day(db, settings, frozen, django_assert_num_queries):
    first = schedules_enqueue()
    assert first == list(settings.TASK_SCHEDULES)
    with django_assert_num_queries(1):  # every worker, every tick: one read, no failing insert
        assert schedules_enqueue() == []  # the same period: nothing new
    frozen.shift(timedelta(days=1))
    assert schedules_enqueue() == first
    assert ScheduledRun.objects.count() == 2 * len(first)
    assert len(tasks("revoke_unused")) == len(tasks("prune")) == 2


@pytest.mark.django_db(transaction=True)
def test_two_enqueuers_racing_enqueue_each_job_once(settings):
    now = timezone.now()
    start = threading.Barrier(2)
    outcomes: list[list[str] | str] = []

    def enqueuer():
        try:
            start.wait()
            outcomes.append(schedules_enqueue(now=now))
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=enqueuer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(o, list) for o in outcomes), outcomes
    won = [job for enqueued in outcomes for job in enqueued]
    assert sorted(won) == sorted(settings.TASK_SCHEDULES)  # each once, by one or the other
    assert ScheduledRun.objects.count() == len(settings.TASK_SCHEDULES)
    for schedule in settings.TASK_SCHEDULES.values():
        assert DBTaskResult.objects.filter(task_path=schedule["task"]).count() == 1


def test_the_worker_waits_out_a_database_outage(monkeypatch, caplog):
    """db_worker ends on a database error; `manage.py worker` tries again, sooner first."""
    from core.management.commands import worker

    runs, waits = [], []

    def run_tasks(self, **options):
        runs.append(options)
        if len(runs) < 3:
            raise OperationalError("server login has been failing")

    monkeypatch.setattr(worker.Command, "run_tasks", run_tasks)
    monkeypatch.setattr(worker.time, "sleep", waits.append)
    monkeypatch.setattr(worker.signal, "signal", lambda *args: None)
    call_command("worker", "--no-schedules")
    assert len(runs) == 3 and waits == [1, 2]
    assert caplog.text.count("Database unreachable; the worker tries again") == 2


def test_a_batch_run_reports_a_database_outage_instead_of_waiting(monkeypatch):
    from core.management.commands import worker

    def run_tasks(self, **options):
        raise OperationalError("server login has been failing")

    monkeypatch.setattr(worker.Command, "run_tasks", run_tasks)
    with pytest.raises(OperationalError):
        call_command("worker", "--batch", "--no-schedules")
