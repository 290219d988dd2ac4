"""Django's Redis cache, made to degrade instead of failing requests when Redis is away.

Everything the portal keeps in the cache can be found again (access decisions, the
"Orthanc unresponsive" flag, "images viewed" de-duplication, rate-limit counts; sessions are in
the database), so with Redis down a read is a miss and a write is dropped, with one warning
every 30 seconds: pages, the API and DICOMweb go on, slower, and an access decision is made
afresh each time — never a stale "allowed" kept past a revocation. ``add`` answers "stored" so
an "images viewed" event is written rather than lost (a duplicate at worst).

A Redis that hangs rather than refuses would make every call wait ``socket_timeout``: after one
failure the process leaves that Redis alone for ``RETRY_SECONDS`` (misses and dropped writes at
once), then tries again, as the Orthanc client does with an unresponsive Orthanc. What is
skipped meanwhile is bounded as with Redis down: access decisions live
``DICOMWEB_DECISION_SECONDS``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
WARNING_EVERY_SECONDS = 30.0
RETRY_SECONDS = 5.0
_last_warning = 0.0
_away_until: dict[str, float] = {}  # Redis location -> when to try it again (this process)


def _warn(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARNING_EVERY_SECONDS:
        _last_warning = now
        logger.warning("Redis unavailable (%s: %s): the cache is bypassed", operation, exc)


def _degrading(method: Callable[..., Any], answer: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of RedisCache, giving ``answer(*args)`` instead when Redis is away."""

    @functools.wraps(method)
    def degrading(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        location = str(self._servers)  # type: ignore[attr-defined]  # set by RedisCache.__init__
        if time.monotonic() < _away_until.get(location, 0.0):
            return answer(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            _away_until[location] = time.monotonic() + RETRY_SECONDS
            _warn(method.__name__, exc)
            return answer(*args, **kwargs)

    return degrading


def _default(key: str, default: Any = None, version: int | None = None) -> Any:
    return default


class DegradingRedisCache(RedisCache):
    get = _degrading(RedisCache.get, _default)
    get_many = _degrading(RedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _degrading(RedisCache.has_key, lambda *args, **kwargs: False)
    set = _degrading(RedisCache.set, lambda *args, **kwargs: None)
    set_many = _degrading(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    add = _degrading(RedisCache.add, lambda *args, **kwargs: True)
    incr = _degrading(RedisCache.incr, lambda *args, **kwargs: 0)
    touch = _degrading(RedisCache.touch, lambda *args, **kwargs: False)
    delete = _degrading(RedisCache.delete, lambda *args, **kwargs: False)
    delete_many = _degrading(RedisCache.delete_many, lambda *args, **kwargs: None)
    clear = _degrading(RedisCache.clear, lambda *args, **kwargs: None)
