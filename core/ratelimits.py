"""Rolling-window counters in Django's cache, shared by every process when the cache is Redis.

A limit of L events per period holds over every stretch of that length, not only inside fixed
windows (where 2L could pass around a window's turn). A key's events are counted in buckets of
a twelfth of the period, and an event is admitted while the current bucket and the twelve before
it hold fewer than L: those cover every stretch of one period that ends now. Refused events are
not counted. The price of exactness is one bucket: a client pacing at exactly L per period may be
refused a moment early, never late.

`hit` counts one event: one round trip on Redis (a script that sums the buckets and adds only
what it admits), Django's get_many and incr on any other cache.

`take` is for the API's per-token limit, on the path of every request: instead of one round trip
per request, a process leases a few requests at a time from the shared count and serves them
from memory until its bucket ends. A lease is counted whole when granted, so the limit holds
across every process; an unused lease can make a token meet its limit a little early.

If the store cannot be reached, counting fails open: the request goes on unlimited and a warning
is logged, because an outage of the counter must not take the API down with it.
"""

import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

BUCKETS = 12  # per period; the check spans BUCKETS + 1 of them

# KEYS: the buckets, newest first. ARGV: wanted, limit, ttl. Admits what fits under the limit,
# adds it to the newest bucket and answers {admitted, count of each bucket}: one round trip.
_COUNT = """
local counts = redis.call('MGET', unpack(KEYS))
local used = 0
for i = 1, #counts do
  counts[i] = tonumber(counts[i]) or 0
  used = used + counts[i]
end
local granted = math.max(0, math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - used))
if granted > 0 then
  counts[1] = redis.call('INCRBY', KEYS[1], granted)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
table.insert(counts, 1, granted)
return counts
"""


@dataclass(frozen=True, slots=True)
class Window:
    count: int  # events in the rolling window, this one included when admitted
    limit: int
    admitted: bool
    retry_at: float  # Unix time at which one more event would be admitted
    reset_at: int  # Unix time at which every event counted now has left the window

    @property
    def exceeded(self) -> bool:
        return not self.admitted

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until one more event is admitted, at least 1 (RFC 9110 Retry-After)."""
        return max(1, math.ceil(self.retry_at - (time.time() if now is None else now)))

    def reset_after(self, now: float | None = None) -> int:
        """Whole seconds until the whole limit is available again."""
        return max(0, math.ceil(self.reset_at - (time.time() if now is None else now)))


def hit(key: str, *, limit: int, period: int = 60) -> Window | None:
    """Count one event for `key` if it fits under `limit` (None: the store is unreachable)."""
    counted = _count(key, 1, limit=limit, period=period, now=time.time())
    return None if counted is None else counted[0]


def address_key(ip: str | None) -> str:
    """Who a per-address limit counts: the address itself, or for IPv6 its /64 (by default),
    since one subscriber is usually handed a whole /64 and could otherwise take a fresh address
    for every attempt. The same grouping as allauth's own limits."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        prefix = settings.ALLAUTH_RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False))
    return str(address)


class Leases:
    """Per-process leases on shared counters (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bucket: int | None = None
        self._left: dict[str, tuple[int, Window]] = {}  # key: (leased and unused, as granted)

    def clear(self) -> None:
        with self._lock:
            self._bucket, self._left = None, {}

    def take(self, key: str, *, limit: int, period: int = 60) -> Window | None:
        """Count one event for `key` against `limit` (None: the store is unreachable)."""
        now = time.time()
        bucket = int(now * BUCKETS // period)
        with self._lock:
            if bucket != self._bucket:
                self._bucket, self._left = bucket, {}
            left, granted = self._left.get(key, (0, None))
            if left and granted is not None:
                self._left[key] = (left - 1, granted)
                return _served(granted, left - 1)
        size = min(max(limit // 100, 1), 50)
        counted = _count(key, size, limit=limit, period=period, now=now)
        if counted is None:
            return None
        window, leased = counted
        if leased:
            with self._lock:
                if bucket == self._bucket:
                    self._left[key] = (leased - 1, window)
        # Counted as if every leased request were already made: the conservative reading.
        return _served(window, leased - 1) if leased else window

    def give_back(self, key: str) -> None:
        """Uncount one event served from this process's lease on `key` in the current bucket
        (an answer that should not count, such as a 304); later, it stays counted."""
        with self._lock:
            left, granted = self._left.get(key, (0, None))
            if granted is not None:
                self._left[key] = (left + 1, granted)


leases = Leases()


def _served(granted: Window, left: int) -> Window:
    return Window(granted.count - left, granted.limit, True, granted.retry_at, granted.reset_at)


def _count(
    key: str, amount: int, *, limit: int, period: int, now: float
) -> tuple[Window, int] | None:
    """Admit up to `amount` events for `key`: the window as it stands and how many it admitted."""
    width = period / BUCKETS
    current = int(now // width)
    base = f"rl:{{{key}}}:{period}:"  # the braces keep a key's buckets in one Redis Cluster slot
    buckets = [str(current - age) for age in range(BUCKETS + 1)]
    ttl = period + math.ceil(width) + 1
    store = caches["default"]
    try:
        if isinstance(store, RedisCache):
            prefix = store.make_key(base)  # make_key(base) + bucket == make_key(base + bucket)
            keys = [prefix + bucket for bucket in buckets]
            granted, *counts = _redis_count(store, keys, amount, limit, ttl)
        else:
            keys = [base + bucket for bucket in buckets]
            granted, counts = _cache_count(store, keys, amount, limit, ttl)
    except Exception:
        logger.warning("Rate-limit store unreachable; not counting", exc_info=True)
        return None
    return _window(counts, granted, limit=limit, current=current, width=width), granted


def _window(counts: list[int], granted: int, *, limit: int, current: int, width: float) -> Window:
    """Where a key stands, from its buckets' counts (newest first) after admitting `granted`."""
    used = sum(counts)
    # Bucket `current - age` leaves the window when bucket `current - age + BUCKETS + 1` begins.
    leaves = [(current - age + BUCKETS + 1) * width for age in range(len(counts))]
    reset_at = max((at for at, n in zip(leaves, counts, strict=True) if n), default=leaves[0])
    retry_at, gone = 0.0, 0
    if used >= limit:
        for at, n in reversed(list(zip(leaves, counts, strict=True))):  # the oldest first
            gone += n
            if used - gone < limit:
                retry_at = at
                break
    return Window(used, limit, bool(granted), retry_at, math.ceil(reset_at))


_fallback = threading.Lock()


def _cache_count(
    store: BaseCache, keys: list[str], amount: int, limit: int, ttl: int
) -> tuple[int, list]:
    # Another cache than Redis (this process's memory, for local runs): the same arithmetic,
    # atomic within the process only.
    with _fallback:
        found = store.get_many(keys)
        counts = [int(found.get(k, 0)) for k in keys]
        granted = max(0, min(amount, limit - sum(counts)))
        if granted:
            if not store.add(keys[0], granted, ttl):
                store.incr(keys[0], granted)
            counts[0] += granted
    return granted, counts


def _redis_count(store: RedisCache, keys: list[str], amount: int, limit: int, ttl: int) -> list:
    """The script's answer for these keys, made already (make_key)."""
    # Django's RedisCache builds a new client for every call (about 80 µs here); one script
    # object per cache object (Django keeps one per thread), on Django's own connection pool.
    script = getattr(store, "_tessera_count", None)
    if script is None:
        client = store._cache.get_client(write=True)
        script = client.register_script(_COUNT)
        setattr(store, "_tessera_count", script)  # noqa: B010 (ours, on Django's object)
    return [int(n) for n in script(keys=keys, args=[amount, limit, ttl])]
