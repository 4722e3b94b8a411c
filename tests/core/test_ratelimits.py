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
def test_a_lease_counts_conservatively_and_ends_with_its_bucket(db):
    process = Leases()
    counts = [process.take("api:1", limit=1000).count for _ in range(12)]
    assert counts == list(range(1, 13))
    # Five seconds on, a new bucket: the two leases (20) still count, a new one begins.
    with time_machine.travel("2026-11-23 10:00:05", tick=False):
        assert process.take("api:1", limit=1000).count == 21
    # A minute and a bucket after both leases, they have left the window.
    with time_machine.travel("2026-11-23 10:01:10", tick=False):
        assert process.take("api:1", limit=1000).count == 1


@pytest.mark.parametrize("limit", [5, 1000])
def test_no_stretch_of_a_minute_admits_more_than_the_limit_across_a_boundary(db, limit):
    """The fixed window let 2,000 through in 3.3 s around a minute's turn at a limit of 1,000."""
    processes = [Leases(), Leases()]
    admitted: list[float] = []
    moments = [59.0, 59.5, 59.9, 60.0, 60.1, 60.5, 61.0, 62.5, 90.0, 118.0]
    for second in moments:
        with time_machine.travel(1795428000 + second, tick=False):
            for process in itertools.islice(itertools.cycle(processes), limit * 2):
                if not process.take("api:1", limit=limit).exceeded:
                    admitted.append(second)
    assert len(admitted) == limit  # all in the first moment, none after within the minute
    assert set(admitted) == {59.0}
    with time_machine.travel(1795428000 + 59.0 + 66, tick=False):
        assert not processes[0].take("api:1", limit=limit).exceeded  # the minute has passed


def test_retry_after_is_truthful_and_refused_attempts_do_not_count(db):
    start = 1795428000 + 12.0
    with time_machine.travel(start, tick=False):
        assert [ratelimits.hit("k", limit=3).admitted for _ in range(4)] == [1, 1, 1, 0]
    with time_machine.travel(start + 30, tick=False):
        refused = ratelimits.hit("k", limit=3)
        assert refused.exceeded and refused.count == 3 and refused.remaining == 0
        wait = refused.retry_after()
    assert 30 <= wait <= 40  # the events of 12 s left the window between 72 and 77 s
    for _ in range(50):  # hammering while refused does not push the end further away
        with time_machine.travel(start + 30 + wait - 1, tick=False):
            assert ratelimits.hit("k", limit=3).exceeded
    with time_machine.travel(start + 30 + wait, tick=False):
        assert ratelimits.hit("k", limit=3).admitted


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:192.0.2.7", "192.0.2.7", True),
        ("192.0.2.7", "192.0.2.8", False),
    ],
)
def test_per_address_limits_count_an_ipv6_64_as_one_address(one, other, same):
    assert (ratelimits.address_key(one) == ratelimits.address_key(other)) is same


def test_an_unreachable_store_fails_open_and_is_logged(client, user, org, monkeypatch, caplog):
    from django.core.cache.backends.redis import RedisCache

    nowhere = RedisCache("redis://127.0.0.1:1/0", {})  # nothing listens there
    monkeypatch.setattr(ratelimits, "caches", {"default": nowhere})
    _, secret = make_token(owner=user, organization=org)
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200 and "RateLimit" not in response
    assert ratelimits.hit("x", limit=1) is None
    assert "Rate-limit store unreachable" in caplog.text
