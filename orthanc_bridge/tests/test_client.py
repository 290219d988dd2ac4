from __future__ import annotations

import io

import pytest

from devtools.dicom_samples import demo_study
from devtools.local_server import free_port
from orthanc_bridge.client import (
    OrthancClient,
    OrthancNotFound,
    OrthancRejected,
    OrthancUnavailable,
)


@pytest.mark.django_db
def test_it_stores_and_finds_an_instance(orthanc):
    instance = demo_study(patient_id="CLIENT-1", ct_count=1, mr_count=0)[0]

    first = orthanc.store_instance(io.BytesIO(instance.content))
    again = orthanc.store_instance(io.BytesIO(instance.content))
    studies = orthanc.find_studies({"PatientID": "CLIENT-1"})

    assert first["Status"] == "Success"
    assert again["Status"] == "AlreadyStored"
    assert [s["MainDicomTags"]["StudyInstanceUID"] for s in studies] == [instance.study_uid]


def test_a_refused_file_is_orthanc_rejected(orthanc):
    with pytest.raises(OrthancRejected):
        orthanc.store_instance(b"not dicom at all")


def test_an_unknown_resource_is_not_found(orthanc):
    with pytest.raises(OrthancNotFound):
        orthanc.get_json("/studies/0000-not-a-study")


def test_wrong_credentials_are_rejected(orthanc_server):
    client = OrthancClient(orthanc_server.url, "preview", "wrong-password")

    with pytest.raises(OrthancRejected) as info:
        client.probe()
    assert info.value.orthanc_status == 401


def test_a_closed_port_is_unavailable():
    client = OrthancClient(f"http://127.0.0.1:{free_port()}", "preview", "x", connect_timeout=1)

    with pytest.raises(OrthancUnavailable):
        client.probe()


def test_the_local_server_keeps_a_generated_password(orthanc_server):
    assert orthanc_server.password != "changeme"
    assert len(orthanc_server.password) >= 24
    assert oct((orthanc_server.directory / "password").stat().st_mode)[-3:] == "600"


@pytest.mark.django_db
def test_the_demo_study_is_loaded_once(orthanc):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("load_demo_study", stdout=out)
    call_command("load_demo_study", stdout=out)

    studies = orthanc.find_studies({"PatientID": "patient_test_poc"})
    assert len(studies) == 1
    assert "already present" in out.getvalue()
    # Dated the day it is loaded: the worklist's "Today" shows it to a new user.
    from django.utils import timezone

    assert studies[0]["MainDicomTags"]["StudyDate"] == timezone.localdate().strftime("%Y%m%d")


def test_the_demo_study_command_says_when_orthanc_is_down():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Could not load the demo study"):
        call_command("load_demo_study")


def test_the_runner_stops_orthanc_and_the_worker_when_it_is_terminated(tmp_path):
    """`make run` killed from outside must leave no Orthanc (on var/orthanc) and no index
    follower behind."""
    import signal
    import subprocess
    import sys
    import time

    from devtools.local_server import _pid_alive

    runner = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_server", "--dir", str(tmp_path),
         "--http-port", str(free_port()), "--dicom-port", str(free_port()),
         "--beside", f"sh -c 'echo $$ > {tmp_path}/worker.pid; exec sleep 60'",
         "--", "sleep", "60"],
    )  # fmt: skip
    pid_file = tmp_path / "orthanc.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    orthanc_pid = int(pid_file.read_text())
    time.sleep(1)
    worker_pid = int((tmp_path / "worker.pid").read_text())
    assert _pid_alive(worker_pid)

    runner.send_signal(signal.SIGTERM)
    runner.wait(timeout=60)

    assert not _pid_alive(orthanc_pid)
    assert not _pid_alive(worker_pid)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("PatientName", "DOE^J*")], "PatientName=DOE?J*"),
        ([("PatientName", "VAN DER*")], "PatientName=VAN?DER*"),
        ([("PatientName", "O+BRIEN")], "PatientName=O+BRIEN"),
        ([("window", "40,400,linear")], "window=40,400,linear"),
        ([("PatientID", "00/03/29:115116")], "PatientID=00/03/29:115116"),
        # What would split the query or the request line stays encoded.
        ([("PatientID", "a&limit=1#x y\r\n")], "PatientID=a%26limit%3D1%23x?y%0D%0A"),
    ],
)
def test_queries_reach_orthanc_as_characters_but_never_break_the_request(params, expected):
    from orthanc_bridge.client import literal_query

    assert literal_query(params) == expected


class _RawServer:
    """A socket server that treats connection number n with ``behaviour(n, conn)``."""

    def __init__(self, behaviour):
        import socket
        import threading

        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []

        def serve():
            while True:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                self.accepted += 1
                conn.recv(65536)
                behaviour(self.accepted, conn, self.held)

        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.django_db
def test_a_connection_dropped_before_the_answer_is_tried_once_more():
    # What a pooled connection closed by Orthanc (keep-alive timeout, a resumed process) does.
    def drop_the_first(n, conn, held):
        if n == 1:
            conn.close()
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        conn.close()

    server = _RawServer(drop_the_first)
    try:
        client = OrthancClient(server.url, connect_timeout=1, read_timeout=1)
        assert client.get_json("/system") == {}
        assert server.accepted == 2
        assert not client.known_unresponsive()
    finally:
        server.close()


@pytest.mark.django_db
def test_a_read_timeout_is_never_retried():
    server = _RawServer(lambda n, conn, held: held.append(conn))  # accepts, never answers
    try:
        client = OrthancClient(server.url, connect_timeout=1, read_timeout=0.5)
        with pytest.raises(OrthancUnavailable):
            client.get_json("/system")
        assert server.accepted == 1
        assert client.known_unresponsive()
    finally:
        server.close()
