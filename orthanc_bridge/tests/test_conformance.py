"""DICOMweb through the portal answers as Orthanc does directly (or as PS3.18 says where the
portal must differ), request by request."""

from __future__ import annotations

import io
import json
import re

import pydicom
import pytest
from django.test import Client
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from devtools.dicom_samples import demo_study
from orthanc_bridge.tests.test_dicomweb import stow_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def jpeg(orthanc, patient_a):
    """An ultrasound stored as JPEG baseline for patient A."""
    dataset = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))
    dataset.PatientID = "CARDIO-001"
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = generate_uid(), generate_uid()
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    orthanc.store_instance(buffer.getvalue())
    return (
        f"/dicom-web/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}"
        f"/instances/{dataset.SOPInstanceUID}"
    )


@pytest.fixture
def portal(member_a):
    client = Client()
    client.force_login(member_a)
    return client


def direct(orthanc, path: str, accept: str | None):
    # None removes the header (requests would send its own "*/*" otherwise).
    response = orthanc.session.get(f"{orthanc.base_url}{path}", headers={"Accept": accept})
    return response.status_code, _media(response.headers.get("Content-Type", ""))


def through(portal, path: str, accept: str | None):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    response = portal.get(path, **headers)
    return response.status_code, _media(response.get("Content-Type", ""))


def _media(content_type: str) -> str:
    """The content type without its boundary (a random value on each answer)."""
    return re.sub(r";\s*boundary=[^;]+", "", content_type)


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "multipart/related", 'multipart/related; type="application/octet-stream"'],
)
def test_frames_come_in_the_transfer_syntax_orthanc_gives(accept, orthanc, jpeg, portal):
    expected = direct(orthanc, f"{jpeg}/frames/1", accept)

    assert through(portal, f"{jpeg}/frames/1", accept) == expected
    assert "1.2.840.10008.1.2.1" in expected[1]  # Explicit VR Little Endian


def test_frames_of_any_type_come_as_stored_where_orthanc_refuses(orthanc, jpeg, portal):
    accept = 'multipart/related; type="*/*"'

    assert direct(orthanc, f"{jpeg}/frames/1", accept)[0] == 400
    status, media = through(portal, f"{jpeg}/frames/1", accept)
    assert status == 200
    assert "image/jpeg" in media and "1.2.840.10008.1.2.4.50" in media


def test_rendered_frames_without_accept_are_a_jpeg_as_from_orthanc(orthanc, jpeg, portal):
    expected = direct(orthanc, f"{jpeg}/frames/1/rendered", None)

    assert expected == (200, "image/jpeg")
    assert through(portal, f"{jpeg}/frames/1/rendered", None) == expected


def test_a_wrong_method_says_which_are_allowed(portal):
    response = portal.put("/dicom-web/studies")

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"


def test_an_anonymous_request_is_told_how_to_authenticate(client):
    response = client.get("/dicom-web/studies")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_series_answers_carry_patient_id_only_when_asked(orthanc, jpeg, portal):
    study_uid = jpeg.split("/")[3]

    plain = portal.get("/dicom-web/series", {"StudyInstanceUID": study_uid}).json()
    asked = portal.get(
        "/dicom-web/series", {"StudyInstanceUID": study_uid, "includefield": "00100020"}
    ).json()
    from_orthanc = orthanc.session.get(
        f"{orthanc.base_url}/dicom-web/series", params={"StudyInstanceUID": study_uid}
    ).json()

    assert set(plain[0]) == set(from_orthanc[0])
    assert "00100020" not in plain[0]
    assert asked[0]["00100020"]["Value"] == ["CARDIO-001"]


def test_a_search_in_xml_is_refused_not_answered_in_json(portal, jpeg):
    response = portal.get("/dicom-web/studies", HTTP_ACCEPT="application/dicom+xml")

    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_stow_answers_with_the_study_and_instance_retrieve_urls(uploader, patient_a, orthanc):
    instances = demo_study(patient_id="CARDIO-001", ct_count=2, mr_count=0)
    body, content_type = stow_body(instances)
    client = Client()
    client.force_login(uploader)

    client.cookies["csrftoken"] = "x"
    answer = client.post(
        "/dicom-web/studies", body, content_type=content_type, HTTP_X_CSRFTOKEN="x"
    ).json()

    study = instances[0].study_uid
    assert answer["00081190"]["Value"] == [f"http://testserver/dicom-web/studies/{study}"]
    urls = [i["00081190"]["Value"][0] for i in answer["00081199"]["Value"]]
    assert urls == [
        f"http://testserver/dicom-web/studies/{study}/series/{i.series_uid}/instances/{i.sop_uid}"
        for i in instances
    ]


def test_a_study_stored_after_a_miss_is_found_at_once(uploader, patient_a, orthanc):
    instance = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0]
    client = Client()
    client.force_login(uploader)
    url = f"/dicom-web/studies/{instance.study_uid}/metadata"
    assert client.get(url).status_code == 404

    orthanc.store_instance(io.BytesIO(instance.content))  # as a modality would

    assert client.get(url).status_code == 200


def stow_both(orthanc, uploader, parts: list[bytes], path: str = "/dicom-web/studies"):
    """The same STOW-RS request to Orthanc directly and through the portal."""
    boundary = "b0undary-preview"
    body = (
        b"".join(
            f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part + b"\r\n"
            for part in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    direct_answer = orthanc.session.post(
        f"{orthanc.base_url}{path}",
        data=body,
        headers={"Content-Type": content_type, "Accept": "application/dicom+json"},
    )
    client = Client()
    client.force_login(uploader)
    portal_answer = client.post(path, body, content_type=content_type)
    return direct_answer, portal_answer


def failed_uids(answer: dict) -> list[str]:
    return [
        (item.get("00081155", {}).get("Value") or [""])[0]
        for item in answer.get("00081198", {}).get("Value", [])
    ]


def test_stow_of_a_part_that_is_not_dicom_is_a_400_as_from_orthanc(uploader, patient_a, orthanc):
    direct_answer, portal_answer = stow_both(orthanc, uploader, [b"garbage" * 50])

    assert portal_answer.status_code == direct_answer.status_code == 400
    assert orthanc.get_json("/instances") == []


def without(tag: str) -> tuple[bytes, str]:
    """An instance of patient A lacking one attribute, and its SOP Instance UID."""
    instance = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0]
    dataset = pydicom.dcmread(io.BytesIO(instance.content))
    delattr(dataset, tag)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue(), instance.sop_uid


def test_stow_of_an_instance_without_series_uid_names_it_as_orthanc_does(
    uploader, patient_a, orthanc
):
    content, sop_uid = without("SeriesInstanceUID")

    direct_answer, portal_answer = stow_both(orthanc, uploader, [content])

    assert portal_answer.status_code == direct_answer.status_code == 400
    assert failed_uids(portal_answer.json()) == failed_uids(direct_answer.json())
    assert failed_uids(portal_answer.json()) == [sop_uid]


def test_stow_to_a_study_that_is_no_uid_refuses_each_instance_as_orthanc_does(
    uploader, patient_a, orthanc
):
    instance = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0]

    direct_answer, portal_answer = stow_both(
        orthanc, uploader, [instance.content], "/dicom-web/studies/not-a-uid"
    )

    assert portal_answer.status_code == direct_answer.status_code == 409
    assert failed_uids(portal_answer.json()) == failed_uids(direct_answer.json())
    assert orthanc.get_json("/instances") == []


def test_an_instance_without_sop_class_is_refused_and_not_stored(uploader, patient_a, orthanc):
    content, _sop_uid = without("SOPClassUID")

    direct_answer, portal_answer = stow_both(orthanc, uploader, [content])

    assert portal_answer.status_code == direct_answer.status_code == 400
    assert "SOPClassUID" in json.dumps(portal_answer.json())
    assert orthanc.get_json("/instances") == []


@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_thumbnails_exist_at_every_level_for_those_who_see_the_study(
    level, orthanc, patient_a, portal, member_b
):
    instances = demo_study(patient_id="CARDIO-001", ct_count=3, mr_count=1)
    for instance in instances:
        orthanc.store_instance(io.BytesIO(instance.content))
    ct = instances[0]
    study = f"/dicom-web/studies/{ct.study_uid}"
    url = {
        "study": f"{study}/thumbnail",
        "series": f"{study}/series/{ct.series_uid}/thumbnail",
        "instance": f"{study}/series/{ct.series_uid}/instances/{ct.sop_uid}/thumbnail",
    }[level]
    outsider = Client()
    outsider.force_login(member_b)

    response = portal.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content[:2] == b"\xff\xd8"
    assert outsider.get(url).status_code == 404
    assert Client().get(url).status_code == 401


def test_the_thumbnail_of_a_series_of_another_study_is_a_404(orthanc, patient_a, portal):
    first = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    second = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    for instance in first + second:
        orthanc.store_instance(io.BytesIO(instance.content))

    url = f"/dicom-web/studies/{first[0].study_uid}/series/{second[0].series_uid}/thumbnail"

    assert portal.get(url).status_code == 404
