"""What operators look at: Prometheus metrics (prometheus-client), in its text format at
/metrics for whoever settings.METRICS_ALLOWED_IPS or METRICS_TOKEN let in.

Labels stay few and bounded: a request is counted by its URL pattern (never its path, which
holds ids), its method and its status. Under gunicorn each worker counts in memory, so set
PROMETHEUS_MULTIPROC_DIR (an empty folder, cleared at start) and every worker's counts are
summed at scrape time, as prometheus-client's multiprocess mode does.

The background queue's figures are read from its table when /metrics is scraped (one aggregate
query, TaskQueueCollector), never on a request's path; every process would read the same table,
so they need no summing.
"""

import logging
import os
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from datetime import datetime
from time import perf_counter

from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.tasks import DEFAULT_TASK_QUEUE_NAME
from django.tasks.base import TaskResultStatus
from django.urls import Resolver404, resolve
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from .selectors import TaskGroup, task_groups

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "tessera_http_requests", "Requests answered, by URL pattern, method and status.",
    ["route", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "tessera_http_request_duration_seconds", "Time to answer, by URL pattern.", ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip
AUTHENTICATIONS = Counter(
    "tessera_token_authentications", "Bearer tokens checked, by outcome and problem type.",
    ["outcome", "reason"],
)  # fmt: skip
REFUSALS = Counter(
    "tessera_rate_limit_refusals", "Requests refused by a rate limit, by which limit.", ["limit"]
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The hot path's own: a valid token, counted on every authenticated request.
ACCEPTED = AUTHENTICATIONS.labels("accepted", "")


def exposition() -> tuple[bytes, str]:
    """Every metric in the text format, summed over the server's processes when they share a
    multiprocess folder, and the task queue's as its table holds them now."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # this process's own counts
    registry.register(TaskQueueCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class TaskQueueCollector:
    """The background queue (django-tasks-db) at scrape time. A database out of reach leaves
    its figures out and sets tessera_tasks_scrape_error, so /metrics still answers the rest."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        error = GaugeMetricFamily(
            "tessera_tasks_scrape_error",
            "1 when the task queue's table could not be read for this scrape (its figures are "
            "then missing), else 0.",
        )
        try:
            groups = task_groups(now=now)
        except (DatabaseError, InterfaceError):
            logger.warning("The task queue's metrics could not be read", exc_info=True)
            error.add_metric([], 1)
            yield error
            return
        error.add_metric([], 0)
        yield error
        yield from task_families(groups, now=now)


def task_families(groups: list[TaskGroup], *, now: datetime) -> Iterator[Metric]:
    """The queue's gauges from its table's groups: every queue and status appears, 0 when empty,
    so that an alert's series exists before the first task."""
    queues = sorted({DEFAULT_TASK_QUEUE_NAME} | {g.queue for g in groups})
    statuses = sorted(set(TaskResultStatus.values) | {g.status for g in groups})
    held: Tally[tuple[str, str]] = Tally()
    due: Tally[str] = Tally()
    ready: Tally[str] = Tally()
    failed: Tally[str] = Tally()
    oldest: dict[str, float] = {}
    for g in groups:
        held[g.queue, g.status] += g.count
        due[g.queue] += g.due
        if g.status == TaskResultStatus.READY:
            ready[g.queue] += g.count
        # Every task with a row appears, at 0 until one fails: a rise shows from the first.
        failed[g.task] += g.count if g.status == TaskResultStatus.FAILED else 0
        if g.oldest_due_since is not None:
            waited = max((now - g.oldest_due_since).total_seconds(), 0.0)
            oldest[g.queue] = max(oldest.get(g.queue, 0.0), waited)
    tasks = GaugeMetricFamily(
        "tessera_tasks",
        "Tasks in the queue's table by queue and status; finished ones are kept "
        "TASKS_RESULT_RETENTION_DAYS days.",
        labels=["queue", "status"],
    )
    depth = GaugeMetricFamily(
        "tessera_task_queue_depth",
        "Tasks ready to run now (ready, with no run_after or one that has passed), by queue.",
        labels=["queue"],
    )
    later = GaugeMetricFamily(
        "tessera_tasks_scheduled_later",
        "Ready tasks waiting for a later run_after (an email's retry, say), by queue.",
        labels=["queue"],
    )
    age = GaugeMetricFamily(
        "tessera_task_queue_oldest_age_seconds",
        "How long the longest-waiting task ready to run has waited since it became due, by "
        "queue; 0 when none is.",
        labels=["queue"],
    )
    for queue in queues:
        for status in statuses:
            tasks.add_metric([queue, status.lower()], held[queue, status])
        depth.add_metric([queue], due[queue])
        later.add_metric([queue], ready[queue] - due[queue])
        age.add_metric([queue], oldest.get(queue, 0.0))
    failures = GaugeMetricFamily(
        "tessera_task_failures",
        "Failed tasks in the queue's table (those of the last TASKS_RESULT_RETENTION_DAYS days) "
        "by task, its dotted path; 0 for a task with rows but no failure.",
        labels=["task"],
    )
    for task in sorted(failed):
        failures.add_metric([task], failed[task])
    yield from (tasks, depth, later, age, failures)


# Each label set's counter and histogram, found once: labels() takes a lock and builds its key on
# every call, which a dict lookup avoids on the path every request takes.
_series: dict[tuple[str, str, int], tuple] = {}


def _observed(route: str, method: str, status: int) -> tuple:
    key = (route, method, status)
    found = _series.get(key)
    if found is None:
        found = _series[key] = (
            REQUESTS.labels(route, method, str(status)),
            LATENCY.labels(route),
        )
    return found


class MetricsMiddleware:
    """Counts and times every request by the URL pattern it matched ("unmatched" for a 404
    before any pattern): the first middleware after the request id, so the time is the
    whole answer's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        if match is None and response.status_code != 404:
            # Refused before the URL conf ran (a bad token, a rate limit): count it under the
            # pattern it was aimed at all the same.
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
        route = match.route if match is not None else "unmatched"
        method = request.method if request.method in METHODS else "other"
        count, latency = _observed(route, method, response.status_code)
        count.inc()
        latency.observe(perf_counter() - started)
        return response
