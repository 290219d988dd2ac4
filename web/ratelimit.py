"""Counting attempts per key in a time window (the cache), for limits such as "20 unknown share
links per address per 10 minutes".

With Redis down the counts are lost and nothing is limited (web.cache degrades to misses): a
limit here slows guessing down, it never decides access on its own.
"""

from __future__ import annotations

from django.core.cache import cache


def attempts_counted(key: str) -> int:
    """How many attempts were counted under ``key`` in its current window."""
    return int(cache.get(f"ratelimit:{key}") or 0)


def attempt_record(key: str, *, window_seconds: int) -> int:
    """Count one attempt; the window starts with the first attempt. Returns the new count."""
    full_key = f"ratelimit:{key}"
    cache.add(full_key, 0, window_seconds)
    try:
        return int(cache.incr(full_key))
    except ValueError:  # the window ended between add and incr
        cache.set(full_key, 1, window_seconds)
        return 1
