"""Fixed-window counters in Django's cache, shared by every process when the cache is Redis.

One counter per key and window: `hit` adds one and says whether the limit is passed. On Redis it
is one round trip (INCR and EXPIRE in a pipeline); on another cache, Django's add and incr.
"""

import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


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


def hit(key: str, *, limit: int, period: int = 60) -> Window:
    """Count one event for `key` in the current window of `period` seconds."""
    now = time.time()
    window = int(now // period)
    count = _incr(f"rl:{key}:{window}", ttl=period + 1)
    return Window(count=count, limit=limit, reset_at=(window + 1) * period)


def _incr(key: str, *, ttl: int) -> int:
    store = caches["default"]
    if isinstance(store, RedisCache):
        return _redis_incr(store, key, ttl=ttl)
    try:
        return store.incr(key)
    except ValueError:
        if store.add(key, 1, ttl):
            return 1
        return store.incr(key)


def _redis_incr(store: RedisCache, key: str, *, ttl: int) -> int:
    # Django's RedisCache.incr checks that the key exists first (a second round trip, racing
    # with add); INCR creates it, so one pipeline does the job. The connection comes from
    # Django's own pool for that cache.
    full_key = store.make_and_validate_key(key)
    client = store._cache.get_client(full_key, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.incr(full_key)
    pipe.expire(full_key, ttl, nx=True)
    count, _ = pipe.execute()
    return int(count)
