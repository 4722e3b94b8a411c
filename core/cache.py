"""Django's Redis cache, failing open: when Redis cannot be reached, every operation answers as
if the cache were empty (a read finds nothing, a write or an add succeeds without keeping
anything) and a warning is logged, instead of raising into the request.

What Tessera keeps in the cache is counters and short-lived memos (allauth's sign-in limits and
their locks, the API's Idempotency-Key answers, the sessions' last-seen marks), none of it the
only copy of anything, so an outage of the cache costs limits and replays for its duration and
nothing else. Tessera's own counters (core.ratelimits) fail open the same way.
"""

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_WARN_EVERY_SECONDS = 10.0
_warned_at = 0.0


def _fail_open(answer: Callable[..., Any]) -> Callable[[Callable], Callable]:
    """Run the operation; if Redis is away, log (at most every few seconds) and return
    `answer(*args, **kwargs)` instead."""

    def wrap(operation: Callable) -> Callable:
        @functools.wraps(operation)
        def guarded(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            global _warned_at
            try:
                return operation(self, *args, **kwargs)
            except RedisError:
                now = time.monotonic()
                if now - _warned_at >= _WARN_EVERY_SECONDS:
                    _warned_at = now
                    logger.warning("Cache unreachable; carrying on without it", exc_info=True)
                return answer(*args, **kwargs)

        return guarded

    return wrap


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _done(*args: Any, **kwargs: Any) -> bool:
    return True


def _not_found(*args: Any, **kwargs: Any) -> bool:
    return False


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _delta(key: Any, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    return delta


def _no_values(*args: Any, **kwargs: Any) -> dict:
    return {}


def _none_failed(*args: Any, **kwargs: Any) -> list:
    return []


class FailOpenRedisCache(RedisCache):
    """RedisCache whose every operation survives Redis being away (see the module's docstring)."""

    add = _fail_open(_done)(RedisCache.add)
    get = _fail_open(_default)(RedisCache.get)
    set = _fail_open(_nothing)(RedisCache.set)
    touch = _fail_open(_not_found)(RedisCache.touch)
    delete = _fail_open(_not_found)(RedisCache.delete)
    get_many = _fail_open(_no_values)(RedisCache.get_many)
    has_key = _fail_open(_not_found)(RedisCache.has_key)
    incr = _fail_open(_delta)(RedisCache.incr)
    set_many = _fail_open(_none_failed)(RedisCache.set_many)
    delete_many = _fail_open(_nothing)(RedisCache.delete_many)
    clear = _fail_open(_not_found)(RedisCache.clear)


def cache_reachable() -> bool | None:
    """Whether the shared store answers a PING (None: there is none, the local memory cache
    serves one process), for /readyz."""
    from django.core.cache import caches

    store = caches["default"]  # not django.core.cache.cache: a proxy, never a RedisCache
    if not isinstance(store, RedisCache):
        return None
    try:
        return bool(store._cache.get_client(write=True).ping())
    except RedisError:
        return False
