"""Rule 12: a limit counted in the shared store holds across processes.

Two gunicorn workers, one Redis: a burst of unusable tokens spread over both workers gets at
most AUTH_FAILURE_LIMIT_PER_MINUTE answers of 401 per minute window; the rest are 429.
"""

import threading
import time
from collections import Counter

import pytest

from tokens import codec

from .conftest import Gunicorn, http

pytestmark = pytest.mark.stress

REDIS_URL = "redis://127.0.0.1:6379/15"
LIMIT = 10
ATTEMPTS = 60
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


def test_the_failed_token_limit_holds_across_two_worker_processes(
    pg_test_database_url, redis_store
):
    server = Gunicorn(
        pg_test_database_url,
        workers=2,
        extra_env={"REDIS_URL": redis_store, "AUTH_FAILURE_LIMIT_PER_MINUTE": str(LIMIT)},
        extra_args=("--access-logfile", "-", "--access-logformat", "pid=%(p)s status=%(s)s"),
    )
    # (minute window, status); None for an answer that straddled the turn of a minute, which the
    # server may have counted in either window.
    answers: list[tuple[int | None, int]] = []
    lock = threading.Lock()
    remaining = iter(range(ATTEMPTS))

    def attempt():
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            sent = int(time.time() // 60)
            status, _ = http("GET", f"{server.url}/api/v1/me", token=codec.generate("pat"))
            window = sent if int(time.time() // 60) == sent else None
            with lock:
                answers.append((window, status))

    threads = [threading.Thread(target=attempt) for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.stop()

    log = server.output()
    workers = {line.split()[0] for line in log.splitlines() if line.startswith("pid=")}
    assert len(workers) == 2, "both workers answered"
    assert {status for _, status in answers} == {401, 429}, log
    per_window = Counter(
        window for window, status in answers if status == 401 and window is not None
    )
    assert all(count <= LIMIT for count in per_window.values()), per_window
    assert len(answers) == ATTEMPTS
    print(f"{ATTEMPTS} attempts over {len(workers)} workers: 401 per window {dict(per_window)}")
