"""Clients that go away mid-request, through the stack's Nginx and straight to a replica.

An upload cut in the middle of a file stores the whole files sent before the cut and nothing of
the cut one, leaves no spooled file behind, and its audit event counts what was stored. A
download left after a few kilobytes (a zip, a WADO-RS stream) leaves the workers serving and no
temporary file in Nginx; its audit event was written when the download began (the append-only
trail does not record whether the client read it all).
"""

from __future__ import annotations

import io
import os
import socket
import ssl
import time
import zipfile

import psycopg
import pydicom
import pytest

from devtools.demo import DEMO_PATIENT_EXTERNAL_ID
from devtools.dicom_samples import ct_volume
from devtools.local_server import USERNAME
from orthanc_bridge.client import OrthancClient
from portal.tests.stack_client import ADMIN, logged_in, session, token, wait_until, workers

BOUNDARY = "cut-here-7d1f"


def raw_connection(stack, port: int | None = None) -> socket.socket:
    """A socket to Nginx over TLS, or straight to a replica's ``port``, reading slowly."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # the server soon has to wait
    raw.settimeout(30)
    raw.connect(("127.0.0.1", port or stack.https_port))
    if port:
        return raw
    context = ssl.create_default_context(cafile=stack.directory / "tls" / "cert.pem")
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def orthanc(stack) -> OrthancClient:
    return OrthancClient(stack.orthanc.url, USERNAME, stack.orthanc.password)


def stored(stack, sop_uid: str) -> bytes | None:
    """The file Orthanc keeps for this SOP Instance UID, or None."""
    found = orthanc(stack).request("POST", "/tools/lookup", data=sop_uid).json()
    if not found:
        return None
    return orthanc(stack).request("GET", f"/instances/{found[0]['ID']}/file").content


def last_event_id(stack) -> int:
    with psycopg.connect(stack.postgres.url("portal")) as connection:
        row = connection.execute("SELECT coalesce(max(id), 0) FROM audit_auditevent").fetchone()
    assert row is not None
    return row[0]


def events_since(stack, since: int, action: str) -> list[dict]:
    with psycopg.connect(stack.postgres.url("portal")) as connection:
        rows = connection.execute(
            "SELECT changes FROM audit_auditevent WHERE id > %s AND action = %s ORDER BY id",
            [since, action],
        ).fetchall()
    return [row[0] for row in rows]


def multipart(instances) -> bytes:
    body = b""
    for instance in instances:
        body += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{instance.filename}"\r\nContent-Type: application/dicom\r\n\r\n'
            ).encode()
            + instance.content
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


def test_an_upload_cut_midway_keeps_the_whole_files_and_nothing_of_the_cut_one(stack):
    small = ct_volume(patient_id=DEMO_PATIENT_EXTERNAL_ID, count=2, size=256)
    # Larger than Django keeps in memory (2.5 MB): spooled to a file as it arrives.
    large = ct_volume(patient_id=DEMO_PATIENT_EXTERNAL_ID, count=1, size=1200)
    body = multipart([*small, *large])
    since, before = last_event_id(stack), workers(stack)
    head = (
        f"POST /api/patients/{stack.patients['poc']}/dicom HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {token(stack, *ADMIN)['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with raw_connection(stack) as client:
        client.sendall(head + body[: len(body) - len(large[0].content) // 2])
        time.sleep(0.5)  # the replica holds the half-received large file

    wait_until(lambda: events_since(stack, since, "dicom.upload"))
    assert events_since(stack, since, "dicom.upload") == [
        {"stored": 2, "already_present": 0, "rejected": 0}
    ]
    assert [stored(stack, i.sop_uid) for i in small] == [i.content for i in small]
    assert stored(stack, large[0].sop_uid) is None
    assert list(stack.temp_dir.iterdir()) == []
    assert workers(stack) == before
    # The same file sent again, whole: stored.
    again = session(stack).post(
        f"{stack.url}/api/patients/{stack.patients['poc']}/dicom",
        files=[("files", (large[0].filename, large[0].content, "application/dicom"))],
        headers=token(stack, *ADMIN),
    )
    assert again.json()["stored"] == 1
    assert stored(stack, large[0].sop_uid) == large[0].content


@pytest.fixture(scope="module")
def noisy_study(stack):
    """Twelve CT images of random pixels (6 MB that no zip shrinks, more than a socket
    buffers), for Patient POC."""
    instances = ct_volume(patient_id=DEMO_PATIENT_EXTERNAL_ID, count=12, size=512)
    for instance in instances:
        dataset = pydicom.dcmread(io.BytesIO(instance.content))
        dataset.PixelData = os.urandom(len(dataset.PixelData))
        out = io.BytesIO()
        dataset.save_as(out)
        instance.content = out.getvalue()
    answer = session(stack).post(
        f"{stack.url}/api/patients/{stack.patients['poc']}/dicom",
        files=[("files", (i.filename, i.content, "application/dicom")) for i in instances],
        headers=token(stack, *ADMIN),
    )
    assert answer.json()["stored"] == 12, answer.text
    found = orthanc(stack).request("POST", "/tools/lookup", data=instances[0].study_uid).json()
    return instances, found[0]["ID"]


def read_a_little_and_leave(stack, request: str, port: int | None = None) -> bytes:
    """Sends ``request``, reads 16 KB of the answer and closes the connection."""
    with raw_connection(stack, port) as client:
        client.sendall(request.encode())
        received = b""
        while len(received) < 16384:
            chunk = client.recv(4096)
            assert chunk, received[:500]
            received += chunk
    return received


@pytest.mark.parametrize("via", ["nginx", "replica"])
def test_a_download_left_after_a_few_kilobytes_leaves_every_worker_serving(stack, noisy_study, via):
    instances, study_id = noisy_study
    browser = logged_in(stack)
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    zip_path = f"/patients/{stack.patients['poc']}/studies/{study_id}/archive"
    wado_path = f"/dicom-web/studies/{instances[0].study_uid}"
    port = stack.web_ports[0] if via == "replica" else None
    since, before = last_event_id(stack), workers(stack)
    common = "Host: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"

    for request in (
        f"GET {zip_path} HTTP/1.1\r\n{common}Cookie: {cookie}\r\n\r\n",
        f"GET {wado_path} HTTP/1.1\r\n{common}Authorization: "
        f"{token(stack, *ADMIN)['Authorization']}\r\n"
        f'Accept: multipart/related; type="application/dicom"\r\n\r\n',
    ):
        assert read_a_little_and_leave(stack, request, port).startswith(b"HTTP/1.1 200")

    # The next downloads are whole, from the same workers.
    archive = browser.get(f"{stack.url}{zip_path}")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as whole:
        assert len(whole.namelist()) == len(instances)
    assert workers(stack) == before
    assert len(events_since(stack, since, "study.download")) == 2  # the left one, the whole one
    assert [p for p in (stack.nginx.directory / "tmp").rglob("*") if p.is_file()] == []
