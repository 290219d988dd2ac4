"""DICOMweb answers that Orthanc compresses because the client accepts it (browsers and
dicomweb-client send ``Accept-Encoding: gzip``) pass through whole."""

from __future__ import annotations

import gzip
import io

import pytest
from django.test import Client

from orthanc_bridge.tests.test_dicomweb import endpoints

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", ["retrieve instance", "frames", "bulk"])
def test_a_gzipped_multipart_answer_is_passed_on_whole(
    endpoint, orthanc, admin, patient_a, study_a
):
    for instance in study_a:
        orthanc.store_instance(io.BytesIO(instance.content))
    url, accept = endpoints(study_a)[endpoint]
    client = Client()
    client.force_login(admin)

    answer = client.get(url, HTTP_ACCEPT=accept, HTTP_ACCEPT_ENCODING="gzip")

    assert answer.status_code == 200, answer.content
    body = b"".join(answer.streaming_content)
    assert answer["Content-Encoding"] == "gzip"
    boundary = answer["Content-Type"].split("boundary=")[1].strip('"')
    assert gzip.decompress(body).rstrip().endswith(f"--{boundary}--".encode())
