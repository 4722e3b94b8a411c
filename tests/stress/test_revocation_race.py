"""Rule 5 under load: once revocation commits, no request sent after it succeeds, on any worker."""

import threading
import time

import pytest

from orgs.models import Role
from tests.factories import make_org, make_token, make_user
from tokens.services import token_revoke

from .conftest import Gunicorn, http

pytestmark = pytest.mark.stress

CLIENTS = 6
SECONDS = 4.0
MAX_REQUESTS = 20_000


def test_no_request_sent_after_revocation_commits_succeeds(pg_test_database_url):
    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    token, secret = make_token(owner=owner, organization=org)
    # The per-token limit would answer 429 before the revocation on a fast machine: off here.
    server = Gunicorn(pg_test_database_url, workers=2, extra_env={"API_RATE_LIMIT_PER_MINUTE": "0"})
    records: list[tuple[float, float, int]] = []  # (sent, answered, status)
    lock = threading.Lock()
    stop = threading.Event()

    def hammer():
        while not stop.is_set() and len(records) < MAX_REQUESTS:
            sent = time.monotonic()
            status, _ = http("GET", f"{server.url}/api/v1/me", token=secret)
            with lock:
                records.append((sent, time.monotonic(), status))

    threads = [threading.Thread(target=hammer) for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(SECONDS / 2)
        token_revoke(token=token, by=owner)  # autocommit: committed when this returns
        committed = time.monotonic()
        time.sleep(SECONDS / 2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.stop()

    before = [r for r in records if r[1] < committed]
    after = [r for r in records if r[0] > committed]
    # 401 until the client's failed-attempt limit, then 429: refused either way.
    assert {status for _, _, status in records} <= {200, 401, 429}, server.output()
    assert before and all(status == 200 for *_, status in before), "the token worked before"
    assert len(after) > 50, "enough requests were sent after the revocation"
    successes_after = [r for r in after if r[2] == 200]
    assert successes_after == []
    throttled = sum(1 for r in after if r[2] == 429)
    print(
        f"{len(records)} requests: {len(before)} answered before the revocation committed "
        f"(all 200), {len(after)} sent after it (all refused: {throttled} of them 429)"
    )
