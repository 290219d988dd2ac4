"""A hung Orthanc (a real one, stopped with SIGSTOP) holds no request past the bound.

Connections to a stopped process are accepted by the kernel and then never answered: the
worst case for a proxy. Every request must end with the portal's 503 within
ORTHANC_TIMEOUT_SECONDS (plus the connect timeout), later ones at once, and images flow again
as soon as Orthanc answers.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client

from audit.models import AuditEvent
from devtools.dicom_samples import ct_volume
from orthanc_bridge.client import OrthancUnavailable, get_client
from orthanc_bridge.tests.conftest import as_upload
from orthanc_bridge.tests.test_dicomweb import stow_body

pytestmark = pytest.mark.django_db

BOUND = 2.0
# What a request may take beyond the bound on a busy machine; far below the minutes it took.
SLACK = 6.0


@pytest.fixture
def freeze(orthanc_server, orthanc, settings):
    """freeze() stops the real Orthanc (SIGSTOP); it is resumed after the test."""
    settings.ORTHANC_TIMEOUT_SECONDS = BOUND
    settings.ORTHANC_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.UPLOAD_BATCH_SECONDS = 10.0
    settings.LANGUAGE_CODE = "en"
    pid = orthanc_server.process.pid
    frozen = []

    def stop() -> None:
        os.kill(pid, signal.SIGSTOP)
        frozen.append(pid)

    yield stop
    if frozen:
        os.kill(pid, signal.SIGCONT)
    get_client().probe()  # what the health check does: Orthanc answers again


@pytest.fixture
def stored_study(orthanc, patient_a, study_a):
    for instance in study_a:
        orthanc.store_instance(io.BytesIO(instance.content))
    return study_a


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_qido_and_wado_answer_503_within_the_bound_then_at_once(member_a, stored_study, freeze):
    client = Client()
    client.force_login(member_a)
    study = f"/dicom-web/studies/{stored_study[0].study_uid}"
    freeze()

    first, first_seconds = timed(lambda: client.get("/dicom-web/studies"))
    second, second_seconds = timed(lambda: client.get(f"{study}/metadata"))
    third, third_seconds = timed(lambda: client.get(f"{study}/series"))

    assert (first.status_code, first.json()["code"]) == (503, "orthanc_unavailable")
    assert first_seconds < BOUND + SLACK
    assert get_client().known_unresponsive()
    for response, seconds in ((second, second_seconds), (third, third_seconds)):
        assert (response.status_code, response.json()["code"]) == (503, "orthanc_unavailable")
        assert seconds < BOUND  # failed fast: nobody waited for Orthanc again


def test_images_flow_again_once_orthanc_answers(
    member_a, stored_study, freeze, orthanc_server, settings
):
    settings.ORTHANC_PROBE_SECONDS = 0.5
    client = Client()
    client.force_login(member_a)
    freeze()
    assert client.get("/dicom-web/studies").status_code == 503

    os.kill(orthanc_server.process.pid, signal.SIGCONT)
    time.sleep(0.6)  # past ORTHANC_PROBE_SECONDS: the next request probes

    response = client.get("/dicom-web/studies")
    assert response.status_code == 200
    assert [s["0020000D"]["Value"][0] for s in response.json()] == [stored_study[0].study_uid]
    assert not get_client().known_unresponsive()


def test_the_health_check_notices_within_its_own_timeout(client, freeze):
    freeze()

    response, seconds = timed(lambda: client.get("/health"))

    assert response.status_code == 503
    assert response.json()["orthanc"] == "unavailable"
    assert seconds < 2.0 + SLACK
    assert get_client().known_unresponsive()


def test_the_zip_download_is_a_503_page_within_the_bound(
    login_client, member_a, patient_a, stored_study, freeze
):
    client = login_client(member_a)
    panel = client.get(f"/patients/{patient_a.pk}/studies/")
    study_id = panel.context["studies"][0]["id"]
    freeze()

    response, seconds = timed(
        lambda: client.get(f"/patients/{patient_a.pk}/studies/{study_id}/archive")
    )

    assert response.status_code == 503
    assert response.context["status"] == 503
    assert "unavailable" in response.context["message"]
    assert seconds < BOUND + SLACK


def test_an_upload_batch_ends_within_the_bound_and_says_what_was_not_stored(
    login_client, uploader, patient_a, orthanc, study_a, freeze
):
    client = login_client(uploader)
    freeze()

    response, seconds = timed(
        lambda: client.post(
            f"/patients/{patient_a.pk}/dicom/",
            {"files": as_upload(study_a)},
            HTTP_ACCEPT="application/json",
        )
    )

    assert response.status_code == 503
    answer = response.json()
    assert answer["stored"] == 0
    assert len(answer["rejected"]) == len(study_a)
    assert all("unavailable" in r["reason"] for r in answer["rejected"])
    assert seconds < BOUND + SLACK


def test_a_file_whose_store_got_no_answer_is_unknown_never_not_stored(
    login_client, uploader, patient_a, orthanc, orthanc_server, freeze, monkeypatch, settings
):
    """Orthanc hangs as the first file is on its way: that file is "unknown" (Orthanc stores it
    when it resumes), the others "not stored", and sending them all again is safe."""
    settings.UPLOAD_ORTHANC_CONCURRENCY = 1
    files = ct_volume(patient_id="CARDIO-001", count=3, size=64)
    client, store = get_client(), get_client().store_instance

    def hang_then_store(*args, **kwargs):  # the fault's timing; the hang is the real Orthanc's
        monkeypatch.setattr(client, "store_instance", store)
        freeze()
        return store(*args, **kwargs)

    monkeypatch.setattr(client, "store_instance", hang_then_store)
    upload = login_client(uploader)

    def send():
        return upload.post(f"/patients/{patient_a.pk}/dicom/", {"files": as_upload(files)},
                           HTTP_ACCEPT="application/json")  # fmt: skip

    answer = send().json()
    os.kill(orthanc_server.process.pid, signal.SIGCONT)
    get_client().probe()
    deadline = time.monotonic() + 30  # Orthanc reads the waiting request once it runs again
    while not orthanc.get_json("/instances") and time.monotonic() < deadline:
        time.sleep(0.1)
    kept = [orthanc.get_json(f"/instances/{i}/simplified-tags")["SOPInstanceUID"]
            for i in orthanc.get_json("/instances")]  # fmt: skip
    again = send().json()

    assert [f["status"] for f in answer["files"]] == ["unknown", "rejected", "rejected"]
    assert "Sending it again is safe" in answer["unknown"][0]["reason"]
    assert all(r["reason"].startswith("Not stored") for r in answer["rejected"])
    assert kept == [files[0].sop_uid]  # the unknown one, stored after all; no refused one
    assert [f["status"] for f in again["files"]] == ["already_present", "stored", "stored"]
    trail = AuditEvent.objects.filter(action="dicom.upload").order_by("pk")
    assert [e.changes for e in trail] == [
        {"stored": 0, "already_present": 0, "rejected": 2, "unknown": 1},
        {"stored": 2, "already_present": 1, "rejected": 0},
    ]


def test_a_stow_whose_only_instance_got_no_answer_is_a_503_saying_retrying_is_safe(
    client, api_token, uploader, patient_a, orthanc, orthanc_server, freeze, monkeypatch
):
    """Nothing refused, nothing confirmed: not the 409 of a conflict (clients do not retry
    those) but a 503 with Retry-After, and the failed instance's comment says a retry is safe."""
    (instance,) = ct_volume(patient_id="CARDIO-001", count=1, size=64)
    store = get_client().store_instance

    def hang_then_store(*args, **kwargs):
        monkeypatch.setattr(get_client(), "store_instance", store)
        freeze()
        return store(*args, **kwargs)

    monkeypatch.setattr(get_client(), "store_instance", hang_then_store)
    body, content_type = stow_body([instance])

    response = client.post(
        "/dicom-web/studies", body, content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}",
    )  # fmt: skip

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    (failed,) = response.json()["00081198"]["Value"]
    assert failed["00081155"]["Value"] == [instance.sop_uid]
    assert failed["00000902"]["Value"] == ["Unknown, maybe stored: sending it again is safe."]


def test_a_stream_cut_by_a_hung_orthanc_ends_in_an_error_not_a_clean_end(
    member_a, patient_a, orthanc, freeze
):
    volume = ct_volume(patient_id="CARDIO-001", count=40, size=512)  # about 20 MB
    for instance in volume:
        orthanc.store_instance(io.BytesIO(instance.content))
    client = Client()
    client.force_login(member_a)
    response = client.get(
        f"/dicom-web/studies/{volume[0].study_uid}",
        HTTP_ACCEPT='multipart/related; type="application/dicom"',
    )
    assert response.status_code == 200
    body = iter(response.streaming_content)
    received = len(next(body))
    freeze()

    started = time.monotonic()
    with pytest.raises(OrthancUnavailable):
        for chunk in body:
            received += len(chunk)
    assert time.monotonic() - started < BOUND + SLACK
    assert received < sum(len(i.content) for i in volume)


@pytest.fixture
def gunicorn_portal(orthanc_server, settings, tmp_path):
    """The portal under gunicorn (threaded workers, as in production), on the test database."""
    from django.db import connection

    from devtools.local_server import free_port

    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "ORTHANC_URL": orthanc_server.url,
        "ORTHANC_PASSWORD": orthanc_server.password,
        "ORTHANC_TIMEOUT_SECONDS": str(BOUND),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--worker-class", "gthread", "--threads", "2", "--bind", f"127.0.0.1:{port}",
            "portal.wsgi",
        ],
        env=env,
        stdout=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115 - kept by Popen
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/health", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_the_client_sees_the_cut_stream_as_an_error(
    member_a, patient_a, orthanc, api_token, gunicorn_portal, freeze
):
    volume = ct_volume(patient_id="CARDIO-001", count=40, size=512)  # about 20 MB
    for instance in volume:
        orthanc.store_instance(io.BytesIO(instance.content))
    answer = requests.get(
        f"{gunicorn_portal}/dicom-web/studies/{volume[0].study_uid}",
        headers={
            "Authorization": f"Bearer {api_token(member_a)}",
            "Accept": 'multipart/related; type="application/dicom"',
        },
        stream=True,
        timeout=60,
    )
    assert answer.status_code == 200
    body = answer.iter_content(1024 * 1024)
    received = len(next(body))
    freeze()

    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        for chunk in body:
            received += len(chunk)
    assert received < sum(len(i.content) for i in volume)


def test_a_stream_cut_by_a_crashed_orthanc_ends_in_an_error_not_a_clean_end(
    member_a, patient_a, tmp_path, settings
):
    """Orthanc streams multipart answers with no length: a crash looks like a clean end of the
    body, but the closing boundary is missing. A real Orthanc of its own, killed mid-stream."""
    from devtools.local_server import LocalOrthanc, free_port

    server = LocalOrthanc(tmp_path / "orthanc", http_port=free_port(), dicom_port=free_port())
    server.start()
    settings.ORTHANC_URL, settings.ORTHANC_PASSWORD = server.url, server.password
    try:
        volume = ct_volume(patient_id="CARDIO-001", count=40, size=512)
        for instance in volume:
            get_client().store_instance(io.BytesIO(instance.content))
        client = Client()
        client.force_login(member_a)
        response = client.get(
            f"/dicom-web/studies/{volume[0].study_uid}",
            HTTP_ACCEPT='multipart/related; type="application/dicom"',
        )
        body = iter(response.streaming_content)
        received = len(next(body))
        server.process.kill()

        with pytest.raises(OrthancUnavailable):
            for chunk in body:
                received += len(chunk)
        assert received < sum(len(i.content) for i in volume)
    finally:
        server.stop()


def test_a_request_out_of_its_own_time_does_not_mark_orthanc_unresponsive(orthanc, freeze):
    from orthanc_bridge.client import OrthancDeadline, deadline_in

    client = get_client()
    freeze()

    with pytest.raises(OrthancDeadline):
        client.get_json("/system", deadline=deadline_in(0.3))
    assert not client.known_unresponsive()


def test_an_upload_past_its_deadline_says_to_send_again_without_blaming_orthanc(
    login_client, uploader, patient_a, orthanc, study_a, settings
):
    settings.UPLOAD_BATCH_SECONDS = 0.0  # the request's own time is over before it starts
    settings.LANGUAGE_CODE = "en"

    response = login_client(uploader).post(
        f"/patients/{patient_a.pk}/dicom/",
        {"files": as_upload(study_a)},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200  # Orthanc is fine: no 503
    answer = response.json()
    assert answer["stored"] == 0
    assert all("send this file again" in r["reason"] for r in answer["rejected"])
    assert not get_client().known_unresponsive()
    assert orthanc.get_json("/instances") == []
