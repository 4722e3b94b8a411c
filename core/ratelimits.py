"""Fixed-window counters in Django's cache, shared by every process when the cache is Redis.

`hit` counts one event and says where the count stands: one round trip on Redis (a script that
increments and, for a new counter, sets its expiry), Django's add and incr on any other cache.

`take` is for the API's per-token limit, on the path of every request: instead of one round trip
per request, a process leases a few requests at a time from the shared counter (INCRBY) and
serves them from memory. The shared counter counts every leased request, so the limit holds
across every process and is never exceeded; a process's unused lease can make a token meet its
limit a little early (at most the lease size times the number of processes, in one window).

If the store cannot be reached, counting fails open: the request goes on unlimited and a warning
is logged, because an outage of the counter must not take the API down with it.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# Add ARGV[1] and set the expiry (ARGV[2]) when the counter is new: atomic, one round trip.
_COUNT = (
    "local n = redis.call('INCRBY', KEYS[1], ARGV[1]) "
    "if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end return n"
)


@dataclass(frozen=True, slots=True)
class Window:
    count: int
    limit: int
    reset_at: int  # Unix time at which the window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until the window ends, at least 1 (RFC 9110 Retry-After)."""
        return max(1, self.reset_at - int(time.time() if now is None else now))


def hit(key: str, *, limit: int, period: int = 60) -> Window | None:
    """Count one event for `key` in the current window (None: the store is unreachable)."""
    window = int(time.time() // period)
    count = _add(f"rl:{key}:{window}", 1, ttl=period + 1)
    return None if count is None else Window(count, limit, (window + 1) * period)


class Leases:
    """Per-process leases on shared counters (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: int | None = None
        self._left: dict[str, tuple[int, int]] = {}  # key: (leased and unused, shared count)

    def clear(self) -> None:
        with self._lock:
            self._window, self._left = None, {}

    def take(self, key: str, *, limit: int, period: int = 60) -> Window | None:
        """Count one event for `key` against `limit` (None: the store is unreachable)."""
        window = int(time.time() // period)
        reset_at = (window + 1) * period
        with self._lock:
            if window != self._window:
                self._window, self._left = window, {}
            left, shared = self._left.get(key, (0, 0))
            if left:
                self._left[key] = (left - 1, shared)
                return Window(shared - left + 1, limit, reset_at)
        size = min(max(limit // 100, 1), 50)
        counted = _add(f"rl:{key}:{window}", size, ttl=period + 1)
        if counted is None:
            return None
        granted = max(0, min(size, limit - (counted - size)))
        if not granted:
            return Window(counted, limit, reset_at)  # over the limit
        with self._lock:
            if window == self._window:
                self._left[key] = (granted - 1, counted)
        # Counted as if every leased request were already made: the conservative reading.
        return Window(counted - granted + 1, limit, reset_at)


leases = Leases()


def _add(key: str, amount: int, *, ttl: int) -> int | None:
    store = caches["default"]
    try:
        if isinstance(store, RedisCache):
            return _redis_add(store, key, amount, ttl=ttl)
        if store.add(key, amount, ttl):
            return amount
        return store.incr(key, amount)
    except Exception:
        logger.warning("Rate-limit store unreachable; not counting", exc_info=True)
        return None


def _redis_add(store: RedisCache, key: str, amount: int, *, ttl: int) -> int:
    # Django's RedisCache builds a new client for every call (about 80 µs here) and its incr
    # needs the key to exist first (a second round trip). One script object per cache object
    # (Django keeps one per thread), on Django's own connection pool.
    script = getattr(store, "_tessera_count", None)
    if script is None:
        client = store._cache.get_client(write=True)
        script = client.register_script(_COUNT)
        setattr(store, "_tessera_count", script)  # noqa: B010 (ours, on Django's object)
    return int(script(keys=[store.make_key(key)], args=[amount, ttl]))
