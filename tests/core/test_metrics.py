"""/metrics: closed unless settings name the scraper; requests by URL pattern and status,
token checks by outcome, rate-limit refusals, the task queue read from its table at scrape time;
JSON logs with the token's prefix, never its secret."""

import json
import logging
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError, connection
from django.tasks.base import TaskResultStatus
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from core.emails import current_request
from core.logs import JsonFormatter
from core.metrics import exposition
from core.middleware import RequestIdFilter
from core.tasks import prune_task_results, send_email
from orgs.models import Role
from tests.factories import bearer, make_org, make_token, make_user
from tests.tasks import work
from tokens import codec
from tokens.authentication import token_authenticate

pytestmark = pytest.mark.django_db


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> list[Sample]:
    """Every sample /metrics answers, as Prometheus would read them."""
    response = client.get("/metrics")
    assert response.status_code == 200
    families = text_string_to_metric_families(response.content.decode())
    return [s for family in families for s in family.samples]


def figure(samples: list[Sample], name: str, **labels: str) -> float | None:
    return next((s.value for s in samples if s.name == name and s.labels == labels), None)


@pytest.fixture
def scraper(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8"]


@pytest.fixture
def secret(db):
    user = make_user()
    org = make_org(members={user: Role.MEMBER})
    return make_token(owner=user, organization=org)[1]


def test_metrics_are_closed_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_a_listed_address_may_scrape(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8"]
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"tessera_http_requests_total" in response.content


def test_the_metrics_token_lets_a_scraper_in_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN = "scrape-me-please-0123456789"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please-0123456789"})
    assert ok.status_code == 200


def test_requests_are_counted_by_url_pattern_not_path(client, secret):
    route = "api/v1/me"
    before = sample("tessera_http_requests_total", route=route, method="GET", status="200")
    client.get("/api/v1/me", **bearer(secret))
    after = sample("tessera_http_requests_total", route=route, method="GET", status="200")
    assert after == before + 1
    assert sample("tessera_http_request_duration_seconds_count", route=route) >= 1


def test_token_checks_are_counted_by_outcome_and_reason(client, secret):
    refused = sample(
        "tessera_token_authentications_total", outcome="refused", reason="unknown-token"
    )
    accepted = sample("tessera_token_authentications_total", outcome="accepted", reason="")
    client.get("/api/v1/me", **bearer(secret))
    client.get("/api/v1/me", **bearer("tsr_pat_" + secret[8:-6] + "000000"))  # bad checksum
    client.get("/api/v1/me", **bearer(codec.generate("pat")))
    assert (
        sample("tessera_token_authentications_total", outcome="accepted", reason="") == accepted + 1
    )
    assert (
        sample("tessera_token_authentications_total", outcome="refused", reason="unknown-token")
        == refused + 1
    )
    # A refusal before the URL conf ran still counts under the pattern it was aimed at.
    assert sample("tessera_http_requests_total", route="api/v1/me", method="GET", status="401") >= 2


def test_rate_limit_refusals_are_counted(client, secret, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    before = sample("tessera_rate_limit_refusals_total", limit="token")
    client.get("/api/v1/me", **bearer(secret))
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 429
    assert sample("tessera_rate_limit_refusals_total", limit="token") == before + 1


def test_json_logs_carry_the_tokens_prefix_never_its_secret(secret):
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            RequestIdFilter().filter(record)
            lines.append(JsonFormatter().format(record))

    handler = Capture()
    logger = logging.getLogger("tessera.test")
    logger.addHandler(handler)
    try:
        request = RequestFactory().get("/api/v1/me")
        request.token = token_authenticate(authorization=f"Bearer {secret}", ip=None, user_agent="")
        reset = current_request.set(request)
        try:
            logger.warning("something about a token")
        finally:
            current_request.reset(reset)
    finally:
        logger.removeHandler(handler)
    entry = json.loads(lines[0])
    assert entry["message"] == "something about a token" and entry["level"] == "WARNING"
    assert entry["token_prefix"] == secret[:14] and isinstance(entry["token_id"], int)
    assert secret not in lines[0] and secret[14:] not in lines[0]


def test_json_logs_of_a_refusal_carry_its_request_id_and_token(client, secret, settings):
    """Django logs a 4xx once the middleware has returned: the request it attaches tells."""
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            RequestIdFilter().filter(record)
            lines.append(JsonFormatter().format(record))

    logger = logging.getLogger("django.request")
    handler = Capture()
    logger.addHandler(handler)
    try:
        client.get("/api/v1/me", **bearer(secret))
        refused = client.get("/api/v1/me", **bearer(secret), HTTP_X_REQUEST_ID="req-42")
    finally:
        logger.removeHandler(handler)
    assert refused.status_code == 429
    entry = json.loads(lines[-1])
    assert entry["message"] == "Too Many Requests: /api/v1/me"
    assert entry["request_id"] == "req-42" and entry["token_prefix"] == secret[:14]
    assert secret[14:] not in lines[-1]


EMAIL = {"subject": "Hello", "text": "Hi\n", "html": "<p>Hi</p>", "to": ["ada@example.com"]}
STATUSES = ("ready", "running", "successful", "failed")


def test_the_queue_is_read_by_status_depth_age_and_failed_task(client, scraper, queue, monkeypatch):
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now - timedelta(seconds=10), tick=False) as clock:
        # A real worker run: the prune succeeds, the email fails and schedules its retry at +60 s.
        monkeypatch.setattr(
            "django.core.mail.EmailMessage.send", mock.Mock(side_effect=smtplib.SMTPException)
        )
        prune_task_results.enqueue()
        send_email.enqueue(key="failing", **EMAIL)
        assert work(monkeypatch) == 2
        clock.move_to(now - timedelta(seconds=900))
        send_email.using(run_after=now - timedelta(seconds=60)).enqueue(key="due-late", **EMAIL)
        clock.move_to(now - timedelta(seconds=600))
        send_email.using(run_after=now + timedelta(hours=1)).enqueue(key="later", **EMAIL)
        clock.move_to(now - timedelta(seconds=300))
        claimed = send_email.enqueue(key="claimed", **EMAIL)
        DBTaskResult.objects.filter(id=claimed.id).update(
            status=TaskResultStatus.RUNNING, started_at=timezone.now()
        )
        clock.move_to(now - timedelta(seconds=120))
        send_email.enqueue(key="oldest", **EMAIL)
        clock.move_to(now - timedelta(seconds=30))
        send_email.enqueue(key="newest", **EMAIL)
        clock.move_to(now)
        samples = scrape(client)

    held = {
        status: figure(samples, "tessera_tasks", queue="default", status=status)
        for status in STATUSES
    }
    assert held == {"ready": 5, "running": 1, "successful": 1, "failed": 1}
    # Ready now: "oldest", "newest", and "due-late", whose run_after passed a minute ago; waiting
    # for later: "later" and the failed email's retry.
    assert figure(samples, "tessera_task_queue_depth", queue="default") == 3
    assert figure(samples, "tessera_tasks_scheduled_later", queue="default") == 2
    # "due-late" was enqueued first but has waited only since its run_after.
    assert figure(samples, "tessera_task_queue_oldest_age_seconds", queue="default") == 120
    assert figure(samples, "tessera_task_failures", task="core.tasks.send_email") == 1
    assert figure(samples, "tessera_task_failures", task="core.tasks.prune_task_results") == 0
    assert figure(samples, "tessera_tasks_scrape_error") == 0


def test_an_empty_queue_reads_zero_in_every_series(client, scraper, queue):
    samples = scrape(client)
    for status in STATUSES:
        assert figure(samples, "tessera_tasks", queue="default", status=status) == 0
    assert figure(samples, "tessera_task_queue_depth", queue="default") == 0
    assert figure(samples, "tessera_tasks_scheduled_later", queue="default") == 0
    assert figure(samples, "tessera_task_queue_oldest_age_seconds", queue="default") == 0
    assert not [s for s in samples if s.name == "tessera_task_failures"]


def test_a_scrape_reads_the_queue_in_one_query_however_many_tasks_it_holds(
    client, scraper, queue, django_assert_num_queries
):
    for n in range(20):
        send_email.enqueue(key=f"bulk:{n}", **EMAIL)
    prune_task_results.enqueue()
    with django_assert_num_queries(1):
        samples = scrape(client)
    assert figure(samples, "tessera_task_queue_depth", queue="default") == 21


def test_requests_never_read_the_queue(client, secret, queue):
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/me", **bearer(secret))
    assert queries and not [q for q in queries if "django_tasks_database" in q["sql"]]


def test_metrics_still_answer_when_the_database_is_down(client, scraper, caplog):
    client.get("/healthz")  # a request counted, so the counters have a series to show
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError):
        samples = scrape(client)
    assert figure(samples, "tessera_tasks_scrape_error") == 1
    assert figure(
        samples, "tessera_http_requests_total", route="healthz", method="GET", status="200"
    )
    queue_series = [s.name for s in samples if s.name.startswith("tessera_task")]
    assert queue_series == ["tessera_tasks_scrape_error"]  # no figure rather than a wrong one
    assert "could not be read" in caplog.text


def test_the_queue_is_read_in_multiprocess_mode_too(db, queue, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    send_email.enqueue(key="one", **EMAIL)
    body, _ = exposition()
    assert b'tessera_task_queue_depth{queue="default"} 1.0' in body
