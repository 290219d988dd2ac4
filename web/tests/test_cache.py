"""The shared cache on a real Redis, and what happens when Redis goes away (web.cache)."""

from __future__ import annotations

import os
import signal

import pytest
from django.core.cache import cache
from django.test import Client

from devtools.local_server import free_port
from devtools.stack.servers import Redis


@pytest.fixture(autouse=True)
def _no_pause_left_over():
    """web.cache's pause after a failure is kept per Redis address, and a free port comes back."""
    from web import cache as degrading

    degrading._away_until.clear()
    yield
    degrading._away_until.clear()


@pytest.fixture
def redis_cache(tmp_path, settings):
    server = Redis(tmp_path / "redis", free_port())
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "web.cache.DegradingRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2},
        }
    }
    yield server
    server.stop()


def test_values_are_shared_through_redis(redis_cache):
    cache.set("shared", {"a": 1}, 30)

    assert cache.get("shared") == {"a": 1}
    assert cache.add("shared", 2) is False
    assert redis_cache.process.poll() is None


def test_with_redis_down_reads_miss_and_writes_are_dropped(redis_cache):
    cache.set("kept", 1, 30)
    redis_cache.stop()

    assert cache.get("kept", "missed") == "missed"
    assert cache.set("other", 1) is None  # no exception
    assert cache.add("viewed", 1) is True  # an audit event is written rather than lost
    assert cache.delete("kept") is False


@pytest.mark.django_db
def test_pages_and_logins_work_with_redis_down(redis_cache, admin):
    redis_cache.stop()
    client = Client()

    login = client.post(
        "/api/auth/login",
        {"email": admin.email, "password": "Correct-Horse-42"},
        content_type="application/json",
    )
    client.force_login(admin)  # a session (in the database)
    page = client.get("/patients/")

    assert login.status_code == 200
    assert page.status_code == 200


@pytest.mark.django_db
def test_a_session_ended_while_redis_hangs_does_not_come_back_with_redis(
    redis_cache, admin, settings
):
    """Redis unreachable but not restarted (a hung server, a network cut) keeps what it held:
    a logout whose cache delete was dropped must not let the old cookie in once Redis answers
    again. Sessions live in the database alone (SESSION_ENGINE)."""
    from web import cache as degrading

    hung_soon = {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}
    settings.CACHES = {"default": {**settings.CACHES["default"], "OPTIONS": hung_soon}}
    client = Client()
    client.force_login(admin)
    assert client.get("/patients/").status_code == 200
    cookie = client.cookies["sessionid"].value

    os.kill(redis_cache.process.pid, signal.SIGSTOP)
    try:
        assert client.post("/accounts/logout/").status_code == 302
    finally:
        os.kill(redis_cache.process.pid, signal.SIGCONT)
    degrading._away_until.clear()  # Redis asked again at once: the session is read where it is
    stale = Client()
    stale.cookies["sessionid"] = cookie

    assert stale.get("/patients/").status_code == 302  # to the login page


def test_a_hung_redis_is_left_alone_for_a_while_then_used_again(redis_cache, monkeypatch):
    """One call waits for a hung Redis; the next ones of this process answer at once as misses
    (not each after its own socket timeout) until web.cache.RETRY_SECONDS have passed."""
    from web import cache as degrading

    now = [1000.0]
    monkeypatch.setattr(degrading.time, "monotonic", lambda: now[0])
    cache.set("kept", "value", 300)
    os.kill(redis_cache.process.pid, signal.SIGSTOP)
    try:
        assert cache.get("kept", "missed") == "missed"  # waited for the socket timeout
    finally:
        os.kill(redis_cache.process.pid, signal.SIGCONT)

    # Redis answers again, but this process does not ask it yet…
    assert cache.get("kept", "missed") == "missed"
    assert cache.add("viewed", 1) is True
    # …until the pause is over.
    now[0] += degrading.RETRY_SECONDS
    assert cache.get("kept", "missed") == "value"
    assert cache.add("viewed", 1) is True and cache.add("viewed", 1) is False
