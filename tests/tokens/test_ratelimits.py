import itertools

import pytest
import time_machine

from core import ratelimits
from core.ratelimits import Leases
from tests.factories import bearer, make_token


@time_machine.travel("2026-11-23 10:00:00", tick=False)
@pytest.mark.parametrize("limit", [3, 250, 1000])
def test_leases_in_several_processes_never_let_more_than_the_limit_through(db, limit):
    processes = [Leases(), Leases(), Leases()]
    allowed = 0
    for process in itertools.islice(itertools.cycle(processes), limit * 2):
        window = process.take("api:1", limit=limit)
        allowed += not window.exceeded
    # Unused leases may stop a token a little early, never late.
    size = min(max(limit // 100, 1), 50)
    assert limit - size * (len(processes) - 1) <= allowed <= limit


@time_machine.travel("2026-11-23 10:00:00", tick=False)
def test_a_lease_counts_conservatively_and_a_new_window_starts_afresh(db):
    process = Leases()
    counts = [process.take("api:1", limit=1000).count for _ in range(12)]
    assert counts == list(range(1, 13))
    with time_machine.travel("2026-11-23 10:01:00", tick=False):
        assert process.take("api:1", limit=1000).count == 1


def test_an_unreachable_store_fails_open_and_is_logged(client, user, org, monkeypatch, caplog):
    from django.core.cache.backends.redis import RedisCache

    nowhere = RedisCache("redis://127.0.0.1:1/0", {})  # nothing listens there
    monkeypatch.setattr(ratelimits, "caches", {"default": nowhere})
    _, secret = make_token(owner=user, organization=org)
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200 and "RateLimit" not in response
    assert ratelimits.hit("x", limit=1) is None
    assert "Rate-limit store unreachable" in caplog.text
