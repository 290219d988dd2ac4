"""Personas shared by every app's tests: who may, who may not."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from accounts import rights
from accounts.tests.factories import DEFAULT_PASSWORD, GroupFactory, UserFactory

PASSWORD = DEFAULT_PASSWORD


@pytest.fixture(autouse=True)
def _fresh_cache_and_throttle():
    """The login throttle and caches are per test: one test's failures never lock out another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# What a care team holds: its patients, adding and changing them, and their images.
CARE_TEAM_RIGHTS = [
    rights.VIEW_GROUP_PATIENTS,
    rights.ADD_PATIENT,
    rights.CHANGE_PATIENT,
    rights.VIEW_IMAGES,
]


@pytest.fixture
def group_a(db):
    return GroupFactory(name="Cardiologie", rights=CARE_TEAM_RIGHTS)


@pytest.fixture
def group_b(db):
    return GroupFactory(name="Radiologie", rights=CARE_TEAM_RIGHTS)


@pytest.fixture
def admin_group(db):
    return GroupFactory(name="Administrateurs", rights=rights.ALL_RIGHTS)


@pytest.fixture
def admin(db, admin_group):
    """An administrator whose rights come from the Administrateurs group (not a superuser)."""
    return UserFactory(
        email="chef@hopital.example", name="Chef", groups=[admin_group], is_staff=True
    )


@pytest.fixture
def manager(db):
    group = GroupFactory(name="Gestion des comptes", rights=[rights.MANAGE_USERS])
    return UserFactory(email="gestion@hopital.example", name="Gestionnaire", groups=[group])


@pytest.fixture
def member_a(db, group_a):
    return UserFactory(email="alice@hopital.example", name="Alice", groups=[group_a])


@pytest.fixture
def member_b(db, group_b):
    return UserFactory(email="bob@hopital.example", name="Bob", groups=[group_b])


@pytest.fixture
def viewer_all(db):
    group = GroupFactory(
        name="Direction médicale", rights=[rights.VIEW_ALL_PATIENTS, rights.VIEW_IMAGES]
    )
    return UserFactory(email="direction@hopital.example", name="Direction", groups=[group])


@pytest.fixture
def no_rights_user(db):
    return UserFactory(email="stagiaire@hopital.example", name="Stagiaire")


@pytest.fixture
def login_client():
    """login_client(user) -> a Django test Client with that user's session."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_token(client):
    """api_token(user) -> an access token from POST /api/auth/login."""

    def make(user, password: str = PASSWORD) -> str:
        response = Client().post(
            "/api/auth/login",
            {"email": user.email, "password": password},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return response.json()["access"]

    return make


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (installed by `make test`)."""
    import os
    import tempfile

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, which is what this flag tells Django.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        chromium = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            locale="en-US",
            ignore_https_errors=True,  # the self-signed certificate of `make stack`
            args=[
                "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-quic",
                "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh tab; page.goto("/path") is relative to the live server."""
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    original_goto = tab.goto
    tab.goto = lambda path, **kw: original_goto(f"{live_server.url}{path}", **kw)  # type: ignore[method-assign]
    yield tab
    tab.close()


@pytest.fixture
def browser_login(page):
    """browser_login(user) logs in through the real login form."""

    def login(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        return page

    return login


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory):
    """A real Orthanc on free loopback ports, for the whole test session."""
    from devtools.local_server import LocalOrthanc, free_port

    server = LocalOrthanc(
        tmp_path_factory.mktemp("orthanc"),
        http_port=free_port(),
        dicom_port=free_port(),
        modalities={"testscu": ["TESTSCU", "127.0.0.1", free_port()]},
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _orthanc_settings(request, settings):
    """Point the portal at the session's Orthanc when a test uses it, else at a closed port.

    A test that does not ask for Orthanc but reaches it anyway gets "unavailable", never a
    stranger's server on the default port.
    """
    if "orthanc_server" in request.fixturenames or "orthanc" in request.fixturenames:
        server = request.getfixturevalue("orthanc_server")
        settings.ORTHANC_URL, settings.ORTHANC_USER, settings.ORTHANC_PASSWORD = (
            server.url, "preview", server.password,
        )  # fmt: skip
    else:
        from devtools.local_server import free_port

        settings.ORTHANC_URL = f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def orthanc(orthanc_server, settings, monkeypatch):
    """An empty Orthanc for this test (everything stored is deleted afterwards).

    What a test stores with ``orthanc.store_instance`` is in the study index at once, as the
    follower (``orthanc_sync --follow``) would have it a moment later; the follower's own
    tests (orthanc_bridge/tests/test_index.py) store with a client of their own.
    """
    from orthanc_bridge.client import get_client
    from orthanc_bridge.index.services import index_study

    client = get_client()
    store = client.store_instance

    def store_and_index(*args, **kwargs):
        answer = store(*args, **kwargs)
        # The portal's upload threads are left alone: the pipeline indexes what they stored.
        if answer.get("ParentStudy") and threading.current_thread() is threading.main_thread():
            index_study(answer["ParentStudy"])
        return answer

    monkeypatch.setattr(client, "store_instance", store_and_index)
    yield client
    for patient_id in client.get_json("/patients"):
        client.delete(f"/patients/{patient_id}")
