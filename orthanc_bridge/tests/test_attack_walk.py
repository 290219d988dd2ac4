"""The holes an attack walk found, each written as the attack.

A member of group B, who may see one study of their own ($SB), tries to read group A's study
($SA) and Orthanc itself through the DICOMweb proxy; an uploader slips an instance into another
patient's study by reusing its UIDs.
"""

from __future__ import annotations

import io
import socket
from urllib.parse import urlsplit

import pydicom
import pytest
from django.test import Client

from accounts import rights
from accounts.tests.factories import GroupFactory, UserFactory
from devtools.dicom_samples import SampleInstance, demo_study
from orthanc_bridge.client import OrthancClient, UnsafePath, safe_path
from orthanc_bridge.dicomweb.proxy import resolve
from orthanc_bridge.tests.conftest import as_upload
from orthanc_bridge.tests.test_dicomweb import MULTIPART_DICOM, stow_body
from patients.tests.factories import PatientFactory
from web.errors import NotFound

UP = {
    "encoded": "%2e%2e/",
    "encoded upper case": "%2E%2E/",
    "raw": "../",
    "encoded slash": "..%2f",
    "half encoded": ".%2e/",
    "double encoded": "%252e%252e/",
    "double encoded slash": "..%252f",
}


@pytest.fixture
def two_groups(orthanc, group_a, group_b, member_a, member_b):
    """Patient A (group A) and patient B (group B), each with a study in Orthanc."""
    PatientFactory(external_id="CARDIO-001", family_name="Durand", groups=[group_a])
    PatientFactory(external_id="RADIO-001", family_name="Petit", groups=[group_b])
    study_a = demo_study(
        patient_id="CARDIO-001", patient_name="Durand^Anne", ct_count=2, mr_count=0
    )
    study_b = demo_study(patient_id="RADIO-001", patient_name="Petit^Paul", ct_count=1, mr_count=0)
    for instance in study_a + study_b:
        orthanc.store_instance(io.BytesIO(instance.content))
    return study_a, study_b


def raw_get(url: str, path: str, token: str) -> tuple[int, bytes]:
    """GET exactly ``path`` on the socket: no client normalises or re-encodes it."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: */*\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def traversal_paths(study_b: list[SampleInstance], target: str, up: str, depth: int) -> str:
    b = study_b[0]
    return f"/dicom-web/studies/{b.study_uid}/series/1/instances/1/bulk/{up * depth}{target}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("variant", UP)
def test_the_bulk_traversal_on_the_raw_socket_is_a_404(
    variant, two_groups, member_b, live_server, api_token
):
    study_a, study_b = two_groups
    token = api_token(member_b)
    up = UP[variant]

    attacks = {
        "another group's study": traversal_paths(study_b, study_a[0].study_uid, up, 6),
        "Orthanc Explorer": traversal_paths(study_b, "app/explorer.html", up, 8),
        "Orthanc's REST API": traversal_paths(study_b, "patients", up, 8),
        "a '..' study UID": f"/dicom-web/studies/{up}studies/{study_a[0].study_uid}",
    }
    for name, path in attacks.items():
        status, body = raw_get(live_server.url, path, token)
        assert status == 404, (name, path, body[:200])
        assert study_a[0].study_uid.encode() not in body, name
        assert b"DICM" not in body and b"Durand" not in body and b"Orthanc" not in body, name


@pytest.mark.django_db(transaction=True)
def test_the_member_still_reads_their_own_bulk_data(two_groups, member_b, live_server, api_token):
    _, study_b = two_groups
    token = api_token(member_b)
    b = study_b[0]
    path = (
        f"/dicom-web/studies/{b.study_uid}/series/{b.series_uid}/instances/{b.sop_uid}"
        "/bulk/7fe00010"
    )

    status, body = raw_get(live_server.url, path, token)

    assert status == 200
    assert len(body) > 128 * 128


@pytest.mark.parametrize(
    "path",
    [
        "studies/..",
        "studies/1.2..3",
        "studies/.1.2",
        "studies/1.2.",
        "studies/1.2//series",
        "studies/1.2/series/./instances",
        "studies/1." + "1" * 63,  # 65 characters
        "studies/1.2/series/1/instances/1/bulk/7fe00010/..",
        "studies/1.2/series/1/instances/1/bulk/../../1.3",
        "studies/1.2/series/1/instances/1/bulk/7fe00010/%2e%2e",
        "studies/1.2/series/1/instances/1/bulk/7fe00010/",
        "studies/1.2/series/1/instances/1/bulk/7fe0001",
        "studies/1.2/series/1/instances/1/bulk/00081111/x/7fe00010",
        "studies/1.2/series/1/instances/1/frames/1,,2",
        "studies/1.2/series/1/instances/1/frames/../1",
    ],
)
def test_only_the_dicomweb_grammar_is_routed(path):
    with pytest.raises(NotFound):
        resolve(path, "GET")


@pytest.mark.parametrize(
    "path",
    [
        "studies/1.2.840.10008.1",
        "studies/1.2/series/1.3/instances/1.4/bulk/7fe00010",
        "studies/1.2/series/1.3/instances/1.4/bulk/00540016/1/00181072",
        "studies/1.2/series/1.3/instances/1.4/bulk/00081111/2/00540016/10/7FE00010",
        "studies/1.2/series/1.3/instances/1.4/frames/1,2,3",
    ],
)
def test_what_orthanc_writes_is_routed_to_the_same_study(path):
    route = resolve(path, "GET")

    assert route.kind == "study"
    assert route.upstream_path == f"/dicom-web/{path}"
    assert route.upstream_path.startswith(f"/dicom-web/studies/{route.study_uid}")


@pytest.mark.parametrize(
    "path", ["/studies/../patients", "/a/./b", "/a//b", "/a/%2e%2e/b", "/a/.b", "/a?x", "a"]
)
def test_the_orthanc_client_refuses_unsafe_paths(path):
    with pytest.raises(UnsafePath):
        safe_path(path)


def test_the_orthanc_client_never_sends_an_unsafe_path(orthanc_server):
    client = OrthancClient(orthanc_server.url, "preview", orthanc_server.password)

    with pytest.raises(UnsafePath):
        client.get_json("/studies/../app/explorer.html")


# --- A study UID taken over by another patient ------------------------------------------------


@pytest.fixture
def uploader_b(group_b):
    uploaders = GroupFactory(name="Manipulateurs radio", rights=[rights.UPLOAD_DICOM])
    return UserFactory(email="manip-radio@hopital.example", groups=[group_b, uploaders])


def b_instance_reusing(a: SampleInstance, *uids: str) -> SampleInstance:
    """An instance of patient B that carries some of A's UIDs."""
    b = demo_study(patient_id="RADIO-001", patient_name="Petit^Paul", ct_count=1, mr_count=0)[0]
    dataset = pydicom.dcmread(io.BytesIO(b.content))
    if "study" in uids:
        dataset.StudyInstanceUID = a.study_uid
    if "series" in uids:
        dataset.SeriesInstanceUID = a.series_uid
    if "sop" in uids:
        dataset.SOPInstanceUID = a.sop_uid
        dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.UID(a.sop_uid)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return SampleInstance(
        "B.dcm", buffer.getvalue(), dataset.StudyInstanceUID, dataset.SeriesInstanceUID,
        dataset.SOPInstanceUID,
    )  # fmt: skip


def studies_of_radio(orthanc) -> list[str]:
    return [
        s["MainDicomTags"]["StudyInstanceUID"]
        for s in orthanc.find_studies({"PatientID": "RADIO-001"})
    ]


REUSED = {"study": ("study",), "series": ("series",), "instance": ("sop",)}
TAG = {"study": "StudyInstanceUID", "series": "SeriesInstanceUID", "instance": "SOPInstanceUID"}


@pytest.mark.django_db
@pytest.mark.parametrize("reused", REUSED)
def test_the_page_upload_refuses_another_patients_uids(reused, two_groups, uploader_b, orthanc):
    study_a, _ = two_groups
    patient_b = PatientFactory._meta.model.objects.get(external_id="RADIO-001")
    intruder = b_instance_reusing(study_a[0], *REUSED[reused])
    before = studies_of_radio(orthanc)
    client = Client()
    client.force_login(uploader_b)

    answer = client.post(
        f"/patients/{patient_b.pk}/dicom/",
        {"files": as_upload([intruder])},
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    ).json()

    assert answer["stored"] == 0
    assert answer["rejected"][0]["file"] == "B.dcm"
    assert TAG[reused] in answer["rejected"][0]["reason"]
    assert "another patient" in answer["rejected"][0]["reason"]
    assert "CARDIO-001" not in answer["rejected"][0]["reason"]
    assert studies_of_radio(orthanc) == before


@pytest.mark.django_db
def test_the_api_upload_refuses_another_patients_study_uid(two_groups, uploader_b, api_token):
    study_a, _ = two_groups
    patient_b = PatientFactory._meta.model.objects.get(external_id="RADIO-001")
    intruder = b_instance_reusing(study_a[0], "study")

    response = Client(HTTP_AUTHORIZATION=f"Bearer {api_token(uploader_b)}").post(
        f"/api/patients/{patient_b.pk}/dicom",
        intruder.content,
        content_type="application/dicom",
    )

    assert response.status_code == 200
    assert response.json()["stored"] == 0
    assert "StudyInstanceUID" in response.json()["rejected"][0]["reason"]


@pytest.mark.django_db
def test_stow_refuses_another_patients_study_uid_and_keeps_the_rest(
    two_groups, uploader_b, api_token, orthanc
):
    study_a, _ = two_groups
    intruder = b_instance_reusing(study_a[0], "study")
    honest = demo_study(patient_id="RADIO-001", ct_count=1, mr_count=0)
    body, content_type = stow_body([intruder, *honest])

    response = Client(HTTP_AUTHORIZATION=f"Bearer {api_token(uploader_b)}").post(
        "/dicom-web/studies", body, content_type=content_type
    )

    assert response.status_code == 202
    failed = response.json()["00081198"]["Value"]
    assert [f["00081155"]["Value"][0] for f in failed] == [intruder.sop_uid]
    assert failed[0]["00081197"]["Value"] == [0x0124]
    assert honest[0].study_uid in studies_of_radio(orthanc)
    assert study_a[0].study_uid not in studies_of_radio(orthanc)


@pytest.mark.django_db
def test_a_study_uid_held_by_two_patients_is_never_served_mixed(
    two_groups, orthanc, member_a, member_b
):
    """A modality (not the portal) sent B's images with A's StudyInstanceUID."""
    study_a, _ = two_groups
    intruder = b_instance_reusing(study_a[0], "study")
    orthanc.store_instance(io.BytesIO(intruder.content))
    outsider = UserFactory(
        email="ext@hopital.example",
        groups=[
            GroupFactory(name="Autre", rights=[rights.VIEW_GROUP_PATIENTS, rights.VIEW_IMAGES])
        ],
    )
    base = f"/dicom-web/studies/{study_a[0].study_uid}"

    def status(user, url, accept="application/dicom+json"):
        client = Client()
        client.force_login(user)
        response = client.get(url, HTTP_ACCEPT=accept)
        assert intruder.series_uid.encode() not in b"".join(
            getattr(response, "streaming_content", [response.content])
        )
        return response.status_code

    for user in (member_a, member_b):
        assert status(user, f"{base}/metadata") == 409
        assert status(user, f"{base}/series") == 409
        assert status(user, base, MULTIPART_DICOM) == 409
        assert status(user, f"{base}/series/{intruder.series_uid}/metadata") == 409
    assert status(outsider, f"{base}/metadata") == 404


@pytest.mark.django_db
@pytest.mark.parametrize("forged", ["..", ".", "%2e%2e", "..%2fpatients", "x%00"])
def test_thumbnails_and_zips_take_only_ids_of_the_patients_own_studies(
    forged, two_groups, member_a, patient_a_record
):
    client = Client()
    client.force_login(member_a)
    pk = patient_a_record.pk

    thumbnail = client.get(f"/patients/{pk}/series/{forged}/thumbnail")
    archive = client.get(f"/patients/{pk}/studies/{forged}/archive")

    # A forged id is no series or study of the patient: never passed on to Orthanc.
    assert thumbnail.status_code == 404
    assert archive.status_code == 404


@pytest.fixture
def patient_a_record(two_groups):
    return PatientFactory._meta.model.objects.get(external_id="CARDIO-001")


@pytest.mark.django_db
def test_one_stow_request_cannot_store_one_sop_uid_under_two_patients(
    two_groups, group_a, uploader_b, api_token, orthanc
):
    uploader_b.groups.add(group_a)  # may upload to both patients
    first = demo_study(patient_id="RADIO-001", ct_count=1, mr_count=0)[0]
    twin = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0]
    dataset = pydicom.dcmread(io.BytesIO(twin.content))
    dataset.SOPInstanceUID = first.sop_uid
    dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.UID(first.sop_uid)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    twin = SampleInstance(
        "twin.dcm", buffer.getvalue(), twin.study_uid, twin.series_uid, first.sop_uid
    )
    body, content_type = stow_body([first, twin])

    response = Client(HTTP_AUTHORIZATION=f"Bearer {api_token(uploader_b)}").post(
        "/dicom-web/studies", body, content_type=content_type
    )

    assert response.status_code == 202
    failed = response.json()["00081198"]["Value"]
    assert failed[0]["00081197"]["Value"] == [0x0111]
    assert (
        orthanc.find_studies({"PatientID": "CARDIO-001"})[0]["MainDicomTags"]["StudyInstanceUID"]
        != twin.study_uid
    )


@pytest.mark.django_db
def test_a_stow_body_cut_after_a_part_reports_what_was_stored(
    two_groups, uploader_b, api_token, orthanc
):
    honest = demo_study(patient_id="RADIO-001", ct_count=1, mr_count=0)
    body, content_type = stow_body(honest)
    # The closing delimiter never comes: a second part starts and the body breaks off.
    unfinished = b"--b0undary-preview\r\nContent-Type: application/dicom\r\n\r\nDICM-cut"
    cut = body[: body.rindex(b"--b0undary-preview--")] + unfinished

    response = Client(HTTP_AUTHORIZATION=f"Bearer {api_token(uploader_b)}").post(
        "/dicom-web/studies", cut, content_type=content_type
    )

    answer = response.json()
    assert response.status_code == 202, answer
    assert [i["00081155"]["Value"][0] for i in answer["00081199"]["Value"]] == [honest[0].sop_uid]
    assert "not terminated" in answer["00081198"]["Value"][0]["00000902"]["Value"][0]


@pytest.mark.django_db
def test_a_bad_token_does_not_lock_out_the_users_session(two_groups, member_b, api_token):
    _, study_b = two_groups
    url = f"/dicom-web/studies/{study_b[0].study_uid}/metadata"

    forged = Client(HTTP_AUTHORIZATION="Bearer not-a-token").get(url)
    session = Client()
    session.force_login(member_b)

    assert forged.status_code == 401
    assert forged["WWW-Authenticate"].startswith("Bearer")
    assert session.get(url).status_code == 200


@pytest.mark.django_db
def test_a_decision_cached_for_one_token_is_not_reused_for_another(
    two_groups, member_b, group_b, api_token
):
    _, study_b = two_groups
    url = f"/dicom-web/studies/{study_b[0].study_uid}/metadata"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {api_token(member_b)}").get(url).status_code == 200

    member_b.groups.remove(group_b)
    fresh = Client(HTTP_AUTHORIZATION=f"Bearer {api_token(member_b)}")

    assert fresh.get(url).status_code == 403
