"""No answer gives away the server's secrets (the SECRET_KEY, Orthanc's password, the Basic
authorization made of it, and in the stack PostgreSQL's and Redis's passwords) or a patient's
data: beyond the walk's and the matrix's answers, the ones most likely to — error pages (400,
403, 404, 405, 429, 500, 502/503), failed logins, static files, the viewer's files and its
configuration — through Django and through the stack's Nginx.

Orthanc refusing the portal's credentials, or gone, is tried through Django only (the stack's
Orthanc is shared by the session's other tests); an unexpected exception carrying the secrets
is injected with a mock, the one fault no real server produces on demand.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests

from devtools.local_server import free_port
from portal.tests.trust.leaks import problems
from portal.tests.trust.world import USERS, World

SECRET_WORDS = "Leak-Probe-Orthanc-Password-7731"
WRONG = {"email": USERS["own_group"], "password": "not-the-password"}
# (persona, method, path, request keywords, statuses that may answer) of the error pages, failed
# logins, static and viewer files.
ASKS: list[tuple[str, str, str, dict, set[int]]] = [
    ("anonymous", "GET", "/no-such-page/", {}, {404}),
    ("anonymous", "GET", "/api/no-such-endpoint", {}, {404}),
    ("anonymous", "GET", "/dicom-web/no-such-resource", {}, {401, 404}),
    ("admin", "GET", "/dicom-web/studies/1.2.3/series/4/instances/5/bulk/..%2f..", {}, {404}),
    ("admin", "GET", "/patients/999999/", {}, {404}),
    ("anonymous", "PUT", "/health", {}, {403, 405}),
    ("admin", "POST", "/dicom-web/studies", {"data": b"not multipart"}, {400, 415}),
    ("admin", "GET", "/dicom-web/studies?limit=x", {}, {200, 400}),
    ("anonymous", "GET", "/", {"headers": {"Host": "evil.example"}}, {400, 404}),
    ("anonymous", "POST", "/accounts/login/", {"data": WRONG}, {200, 403}),
    ("anonymous", "POST", "/api/auth/login", {"json": WRONG}, {401}),
    ("anonymous", "POST", "/api/auth/login", {"data": "{not json"}, {400, 415}),
    ("anonymous", "POST", "/api/auth/refresh", {}, {403}),
    ("anonymous", "GET", "/s/{share_id}/study.zip", {}, {404}),
    ("anonymous", "GET", "/static/css/portal.css", {}, {200}),
    ("anonymous", "GET", "/static/js/portal.js", {}, {200}),
    ("anonymous", "GET", "/static/js/upload.js", {}, {200}),
    ("anonymous", "GET", "/static/vendor/htmx/htmx-2.0.11.min.js", {}, {200}),
    ("anonymous", "GET", "/api/docs", {}, {200}),
    ("anonymous", "GET", "/viewer/index.html", {}, {200}),
    ("anonymous", "GET", "/viewer/manifest.json", {}, {200}),
    ("anonymous", "GET", "/viewer/app-config.js", {}, {200}),
    ("admin", "GET", "/viewer/app-config.js", {}, {200}),
    ("link_holder", "GET", "/viewer/app-config.js", {}, {200}),
    ("admin", "GET", "/api/docs", {}, {200}),
]


def scan(
    world: World, asked: list, clients: dict[str, requests.Session] | None = None
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each ask answered with one of its statuses, and what leaked."""
    clients = {} if clients is None else clients
    unexpected, leaked = {}, {}
    for persona, method, path, kwargs, statuses in asked:
        if persona not in clients:
            clients[persona] = world.client(persona)
        client = clients[persona]
        answer = client.request(
            method, world.target.url + world.fill(path), allow_redirects=False, **kwargs
        )
        key = f"{persona} {method} {path}"
        if answer.status_code not in statuses:
            unexpected[key] = f"{answer.status_code} {answer.text[:300]}"
        if found := problems(answer, persona=persona, secrets=world.target.secrets):
            leaked[key] = found
    return unexpected, leaked


def lockout() -> list:
    """A login throttled after LOGIN_FAILURE_LIMIT (5) failures: the 429 page and answer."""
    nobody = {"email": "nobody-trust@hopital.example", "password": "wrong"}
    return [("anonymous", "POST", "/api/auth/login", {"json": nobody}, {401, 429})] * 6


def viewer_bundle(dist: Path) -> list:
    """OHIF's main bundle, as any visitor's browser loads it."""
    bundle = next(dist.glob("app.bundle.*.js")).name
    return [("anonymous", "GET", f"/viewer/{bundle}", {}, {200})]


def test_error_pages_failed_logins_and_files_leak_nothing_through_django(django_world, settings):
    asked = ASKS + viewer_bundle(Path(settings.OHIF_DIST_DIR)) + lockout()

    unexpected, leaked = scan(django_world, asked)

    assert unexpected == {}
    assert leaked == {}


def test_error_pages_failed_logins_and_files_leak_nothing_through_the_stack(stack, stack_world):
    asked = ASKS + viewer_bundle(stack.ohif_dist) + lockout()
    asked += [("anonymous", "GET", "/internal/dicom-web/decision", {}, {404})]

    unexpected, leaked = scan(stack_world, asked)

    assert unexpected == {}
    assert leaked == {}


@pytest.mark.parametrize("fault", ["wrong password", "Orthanc gone"])
def test_orthanc_refusing_or_gone_leaks_nothing(fault, django_world, settings):
    """The error answers when Orthanc refuses the portal's credentials (its 401 passed on as the
    portal's error) or does not answer at all: never the credentials the portal sent."""
    # Opening the link asks Orthanc: the visitor opened it before the fault.
    clients = {persona: django_world.client(persona) for persona in ("admin", "link_holder")}
    if fault == "wrong password":
        settings.ORTHANC_PASSWORD = SECRET_WORDS
    else:
        settings.ORTHANC_URL = f"http://127.0.0.1:{free_port()}"
    basic = base64.b64encode(f"{settings.ORTHANC_USER}:{settings.ORTHANC_PASSWORD}".encode())
    django_world.target.secrets |= {
        "the password sent": settings.ORTHANC_PASSWORD,
        "the Basic value sent": basic.decode(),
    }
    orthanc_errors = {401, 403, 502, 503}
    asks_orthanc = [
        ("admin", "GET", "/health", {}, {503}),
        ("admin", "GET", "{A}/metadata", {}, orthanc_errors),
        ("admin", "GET", "{A_instance}/frames/1", {}, orthanc_errors),
        ("admin", "GET", "/dicom-web/studies?StudyInstanceUID=1.2.3.4", {}, orthanc_errors),
        ("admin", "GET", "/patients/{patient_a}/studies/{zip_a}/archive", {}, orthanc_errors),
        ("admin", "GET", "/patients/{patient_a}/series/{thumb_a}/thumbnail", {}, {200}),
        ("admin", "POST", "/api/patients/{patient_a}/dicom", UPLOAD, {200, 502, 503}),
        ("admin", "GET", "/studies/unassigned/", {}, {200}),
        ("link_holder", "GET", "{A}/metadata", {}, orthanc_errors),
    ]

    unexpected, leaked = scan(django_world, asks_orthanc, clients)

    assert unexpected == {}
    assert leaked == {}


UPLOAD = {"files": [("files", ("x.dcm", b"DICM but not really", "application/dicom"))]}


def test_an_unexpected_error_shows_none_of_its_message(django_world, monkeypatch):
    """A bug raising an exception whose message holds the secrets: the 500 page, the API's and
    DICOMweb's JSON say only that something went wrong."""
    secrets = " ".join(django_world.target.secrets.values())

    def broken(*args, **kwargs):
        raise RuntimeError(f"unexpected: {secrets}")

    monkeypatch.setattr("home.views.patient_count_for", broken)
    monkeypatch.setattr("accounts.apis.MeOutput", broken)
    monkeypatch.setattr("orthanc_bridge.dicomweb.proxy.qido", broken)
    broken_pages = [
        ("admin", "GET", "/", {}, {500}),
        ("admin", "GET", "/api/me", {}, {500}),
        ("admin", "GET", "/dicom-web/studies", {}, {500}),
    ]

    unexpected, leaked = scan(django_world, broken_pages)

    assert unexpected == {}
    assert leaked == {}
