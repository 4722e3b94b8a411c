"""What operators look at: Prometheus metrics (prometheus-client), in its text format at
/metrics for whoever settings.METRICS_ALLOWED_IPS or METRICS_TOKEN let in.

Labels stay few and bounded: a request is counted by its URL pattern (never its path, which
holds ids), its method and its status. Under gunicorn each worker counts in memory, so set
PROMETHEUS_MULTIPROC_DIR (an empty folder, cleared at start) and every worker's counts are
summed at scrape time, as prometheus-client's multiprocess mode does.
"""

import os
from collections.abc import Callable
from time import perf_counter

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

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
    multiprocess folder."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


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
