"""Rule 12: a limit counted in the shared store holds across processes.

Two gunicorn workers, one Redis. The limits are rolling minutes, so a burst shorter than a minute
gets at most the limit through, whenever it starts: a burst of unusable tokens gets exactly
AUTH_FAILURE_LIMIT_PER_MINUTE answers of 401 (the rest 429), and a burst with one valid token
gets at most API_RATE_LIMIT_PER_MINUTE answers of 200, even when leased in two processes.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from orgs.models import Role
from tests.factories import make_org, make_token, make_user
from tokens import codec

from .conftest import Gunicorn, http

pytestmark = pytest.mark.stress

REDIS_URL = "redis://127.0.0.1:6379/15"
CLIENTS = 6


@pytest.fixture
def redis_store():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    yield REDIS_URL
    client.flushdb()


def burst(server: Gunicorn, attempts: int, token: Callable[[], str]) -> tuple[Counter, float]:
    """`attempts` GETs of /api/v1/me from CLIENTS threads: the statuses and how long it took."""
    answers: Counter = Counter()
    lock = threading.Lock()
    remaining = iter(range(attempts))

    def attempt():
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            status, _ = http("GET", f"{server.url}/api/v1/me", token=token())
            with lock:
                answers[status] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=attempt) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers, time.monotonic() - started


def workers_that_answered(server: Gunicorn) -> set[str]:
    return {line.split()[0] for line in server.output().splitlines() if line.startswith("pid=")}


def two_workers(database_url: str, redis_url: str, **limits: int) -> Gunicorn:
    """gunicorn with two workers sharing Redis, logging which worker answered each request."""
    env = {"REDIS_URL": redis_url, **{name: str(value) for name, value in limits.items()}}
    log_pids = ("--access-logfile", "-", "--access-logformat", "pid=%(p)s status=%(s)s")
    return Gunicorn(database_url, workers=2, extra_env=env, extra_args=log_pids)


def test_the_failed_token_limit_holds_across_two_worker_processes(
    pg_test_database_url, redis_store
):
    limit = 10
    server = two_workers(pg_test_database_url, redis_store, AUTH_FAILURE_LIMIT_PER_MINUTE=limit)
    try:
        answers, took = burst(server, 60, lambda: codec.generate("pat"))
    finally:
        server.stop()
    assert len(workers_that_answered(server)) == 2, "both workers answered"
    assert took < 60 and answers == {401: limit, 429: 60 - limit}, server.output()
    print(f"60 unusable tokens over 2 workers in {took:.1f} s: {dict(answers)}")


def test_the_per_token_limit_holds_across_two_worker_processes(pg_test_database_url, redis_store):
    limit = 300  # leases of 3
    owner = make_user()
    _, secret = make_token(owner=owner, organization=make_org(members={owner: Role.OWNER}))
    server = two_workers(pg_test_database_url, redis_store, API_RATE_LIMIT_PER_MINUTE=limit)
    try:
        answers, took = burst(server, 3 * limit, lambda: secret)
    finally:
        server.stop()
    assert len(workers_that_answered(server)) == 2, "both workers answered"
    assert set(answers) == {200, 429}, server.output()
    # Unused leases may stop the token a little early (one lease per process), never late.
    assert limit - 2 * 3 <= answers[200] <= limit and took < 60
    print(f"{3 * limit} requests with one token over 2 workers in {took:.1f} s: {dict(answers)}")
