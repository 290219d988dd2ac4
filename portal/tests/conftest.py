"""The production topology of `make stack` (devtools.stack), started once for the test session
by the first test that asks for it, and the study uploaded into it."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from devtools.demo import DEMO_PATIENT_EXTERNAL_ID
from devtools.dicom_samples import demo_study
from devtools.local_server import free_port
from devtools.stack import Stack
from portal.tests.stack_client import ADMIN, PEOPLE, session, token


@pytest.fixture(scope="session")
def stack():
    # Not under pytest's private temporary folder: PostgreSQL runs as its own user.
    directory = Path(tempfile.mkdtemp(prefix="preview-dicom-stack-"))
    directory.chmod(0o711)
    stack = Stack(
        directory,
        https_port=free_port(),
        http_port=free_port(),
        dicom_port=free_port(),
        log=False,
    )
    try:  # whatever fails after the start, nothing is left running
        stack.start()
        stack.patients = json.loads(stack.manage("shell", "-c", PEOPLE).stdout.splitlines()[-1])
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["nginx", "django"])
def bytes_via(request, stack):
    """The stack's Nginx restarted with DICOMWEB_BYTES_VIA=<param> (only when it changes)."""
    if stack.bytes_via != request.param:
        stack.restart_nginx(request.param)
    return request.param


@pytest.fixture(scope="session")
def uploaded(stack):
    """A study uploaded through Nginx with the API, for the demo patient."""
    study = demo_study(patient_id=DEMO_PATIENT_EXTERNAL_ID, ct_count=3, mr_count=0)
    answer = session(stack).post(
        f"{stack.url}/api/patients/{stack.patients['poc']}/dicom",
        files=[("files", (i.filename, i.content, "application/dicom")) for i in study],
        headers=token(stack, *ADMIN),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 3
    return study
