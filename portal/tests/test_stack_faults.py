"""The stack's own servers failing under it (`make stack`): its PostgreSQL restarted and its
Redis stopped while Nginx and both replicas keep running.

Each fault must end in a clear answer (the portal's 503 page or JSON, never a 500 with a trace
nor Nginx's 502), the workers must survive it, the next request after recovery must work and
nothing half-written may remain. Each test puts the server back before it ends: the stack is
shared by the session's other tests.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
import redis
import requests

from orthanc_bridge.tests.test_dicomweb import endpoints
from portal.tests.stack_client import (
    ADMIN,
    PASSWORD,
    logged_in,
    session,
    token,
    wait_until,
    web_logs,
    workers,
)

DECISION_SECONDS = 10  # the stack's DICOMWEB_DECISION_SECONDS (the portal's default)
EN = {"Accept-Language": "en"}
DB_DOWN = "The database is unavailable. Nothing was saved; please try again shortly."


def test_postgresql_restarting_is_a_503_then_the_same_session_and_token_work_again(stack, uploaded):
    browser, api = logged_in(stack), token(stack, *ADMIN)
    before = workers(stack)
    external_id = f"FAULT-{uuid.uuid4().hex[:8]}"
    stack.postgres.stop()
    try:
        page = browser.get(f"{stack.url}/patients/", headers=EN)
        listed = session(stack).get(f"{stack.url}/api/patients", headers=api)
        created = session(stack).post(
            f"{stack.url}/api/patients",
            json={"external_id": external_id, "family_name": "Panne"},
            headers=api,
        )
        health = session(stack).get(f"{stack.url}/health")
        dashboard = browser.get(f"{stack.url}/", headers=EN)  # after the 503s: still no 502
    finally:
        stack.postgres.start()

    assert (page.status_code, page.headers["Content-Type"]) == (503, "text/html; charset=utf-8")
    assert DB_DOWN in page.text and "Traceback" not in page.text
    assert dashboard.status_code == 503 and DB_DOWN in dashboard.text
    for answer in (listed, created):
        assert answer.status_code == 503
        assert answer.json() == {"detail": answer.json()["detail"], "code": "database_unavailable"}
    assert (health.status_code, health.json()["database"]) == (503, "unavailable")
    assert "Database error on POST /api/patients" in web_logs(stack)

    # Back: the same session and token, through the same workers, reconnected by themselves.
    assert browser.get(f"{stack.url}/patients/").status_code == 200
    patients = session(stack).get(f"{stack.url}/api/patients", headers=api)
    assert patients.status_code == 200
    assert external_id not in patients.text  # the write refused during the outage is nowhere
    assert workers(stack) == before
    # Orthanc keeps its index in the same PostgreSQL: it answers again too.
    wait_until(lambda: session(stack).get(f"{stack.url}/health").status_code == 200)
    url, accept = endpoints(uploaded)["frames"]
    frames = session(stack).get(f"{stack.url}{url}", headers={**api, "Accept": accept})
    assert frames.status_code == 200


@pytest.fixture
def throwaway_user(stack):
    """A user of the demo group (who sees Patient POC's images), made for one test."""
    admin = token(stack, *ADMIN)
    groups = session(stack).get(f"{stack.url}/api/groups", headers=admin).json()["results"]
    demo = next(g["id"] for g in groups if g["name"] == "Administrateurs")
    email = f"panne-{uuid.uuid4().hex[:8]}@hopital.example"
    made = session(stack).post(
        f"{stack.url}/api/users",
        json={"email": email, "groups": [demo], "password": PASSWORD},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], email


def test_with_redis_stopped_the_stack_works_and_no_revocation_is_undone(
    stack, uploaded, throwaway_user
):
    """Redis down: sessions, logins, pages and images go on (the cache degrades to misses);
    a revoked link and a deactivated user stop at once on the portal and within Nginx's stated
    bound on the image path, as with Redis up; Redis back, it is used again."""
    admin = token(stack, *ADMIN)
    url, accept = endpoints(uploaded)["frames"]
    user_id, email = throwaway_user
    before = workers(stack)
    stack.redis.stop()
    try:
        staff = logged_in(stack, email, PASSWORD)  # a session made with Redis down
        staff_token = token(stack, email, PASSWORD)
        assert staff.get(f"{stack.url}/patients/").status_code == 200
        assert staff.get(f"{stack.url}{url}", headers={"Accept": accept}).status_code == 200
        made = session(stack).post(
            f"{stack.url}/api/shares",
            json={"study_uid": uploaded[0].study_uid, "expires_in_hours": 1},
            headers=admin,
        )
        visitor = session(stack)
        assert visitor.get(made.json()["url"], allow_redirects=False).status_code == 302
        assert visitor.get(f"{stack.url}{url}", headers={"Accept": accept}).status_code == 200

        revoked = session(stack).delete(
            f"{stack.url}/api/shares/{made.json()['id']}", headers=admin
        )
        deactivated = session(stack).patch(
            f"{stack.url}/api/users/{user_id}", json={"is_active": False}, headers=admin
        )
        assert (revoked.status_code, deactivated.status_code) == (204, 200)
        # The portal decides afresh: refused at once.
        search = visitor.get(f"{stack.url}/dicom-web/studies", headers={"Accept": "*/*"})
        page = staff.get(f"{stack.url}/patients/", allow_redirects=False)
        api = session(stack).get(f"{stack.url}/api/patients", headers=staff_token)
        assert (search.status_code, page.status_code, api.status_code) == (401, 302, 401)
        time.sleep(DECISION_SECONDS + 1)  # Nginx may keep its last "allowed" this long
        late = [
            client.get(f"{stack.url}{url}", headers={"Accept": accept, **headers}).status_code
            for client, headers in ((visitor, {}), (staff, {}), (session(stack), staff_token))
        ]
        assert late == [401, 401, 401]
    finally:
        stack.redis.start()

    assert "Redis unavailable" in web_logs(stack)
    assert workers(stack) == before
    # Redis back: the next requests work, and fill it again once each worker's pause after a
    # failure (web.cache.RETRY_SECONDS) is over.
    assert logged_in(stack).get(f"{stack.url}/patients/").status_code == 200
    assert session(stack).get(f"{stack.url}{url}", headers={**admin, "Accept": accept}).ok
    wait_until(
        lambda: (
            session(stack).get(f"{stack.url}{url}", headers={**admin, "Accept": accept}).ok
            # The decision just made is kept there again (Django prefixes cache keys).
            and any(redis.Redis.from_url(stack.redis.url).scan_iter("*dicomweb:decision:*"))
        )
    )


def answers(url: str, headers: dict[str, str]) -> bool:
    try:
        requests.get(url, headers=headers, timeout=5)
    except requests.ConnectionError:
        return False
    return True


def test_a_replica_started_while_orthanc_is_down_serves_pages_then_images_once_it_is_back(
    stack, uploaded
):
    """Orthanc stopped when a portal replica starts: the replica starts anyway (nothing at start
    waits for Orthanc), pages work, images are a clear 503, and once Orthanc is back the same
    replica serves them, without a restart."""
    api = token(stack, *ADMIN)
    url, accept = endpoints(uploaded)["study metadata"]
    replica = f"http://127.0.0.1:{stack.web_ports[1]}"
    # Straight to the replica, as Nginx forwards: HTTPS said by the trusted proxy header.
    direct = {"Host": "localhost", "X-Forwarded-Proto": "https", **api}
    stack.orthanc.stop()
    try:
        os.killpg(stack.web[1].pid, signal.SIGKILL)
        stack.web[1].wait(timeout=10)
        stack.web[1] = stack.start_web(1)
        wait_until(lambda: answers(f"{replica}/health", direct))  # its workers booted
        health = session(stack).get(f"{replica}/health", headers=direct)
        patients = session(stack).get(f"{replica}/api/patients", headers=direct)
        images = session(stack).get(f"{replica}{url}", headers={**direct, "Accept": accept})
    finally:
        stack.orthanc.start()

    assert (health.status_code, health.json()) == (
        503,
        {"status": "degraded", "database": "ok", "orthanc": "unavailable"},
    )
    assert patients.status_code == 200 and patients.json()["count"] >= 1
    assert images.status_code == 503
    assert images.json()["code"] == "orthanc_unavailable"
    # Back: the replica finds out by itself (its probe, or /health) and serves the images.
    wait_until(
        lambda: (
            session(stack).get(f"{replica}{url}", headers={**direct, "Accept": accept}).status_code
            == 200
        )
    )
