"""A real DICOMweb client (dicomweb-client) against the portal, with a Bearer token."""

from __future__ import annotations

import io

import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread

from devtools.dicom_samples import demo_study

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dicomweb_as(live_server, api_token):
    def make(user) -> DICOMwebClient:
        return DICOMwebClient(
            url=f"{live_server.url}/dicom-web",
            headers={"Authorization": f"Bearer {api_token(user)}"},
        )

    return make


def test_search_retrieve_frames_and_store(dicomweb_as, uploader, patient_a, orthanc):
    client = dicomweb_as(uploader)
    study = demo_study(patient_id="CARDIO-001", ct_count=2, mr_count=1)
    originals = {i.sop_uid: dcmread(io.BytesIO(i.content)) for i in study}

    client.store_instances(datasets=list(originals.values()))
    found = client.search_for_studies()
    retrieved = client.retrieve_study(study[0].study_uid)
    ct = study[0]
    (frame,) = client.retrieve_instance_frames(
        ct.study_uid, ct.series_uid, ct.sop_uid, frame_numbers=[1]
    )

    assert [s["0020000D"]["Value"][0] for s in found] == [study[0].study_uid]
    assert {ds.SOPInstanceUID for ds in retrieved} == set(originals)
    for ds in retrieved:
        assert ds.PixelData == originals[ds.SOPInstanceUID].PixelData
    assert frame == originals[ct.sop_uid].PixelData


def test_store_refuses_instances_of_patients_i_cannot_upload_to(
    dicomweb_as, uploader, patient_a, orthanc
):
    from requests import HTTPError

    client = dicomweb_as(uploader)
    mine = dcmread(
        io.BytesIO(demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0].content)
    )
    stranger = dcmread(
        io.BytesIO(demo_study(patient_id="RADIO-001", ct_count=1, mr_count=0)[0].content)
    )

    try:
        answer = client.store_instances(datasets=[mine, stranger])
    except HTTPError as exc:  # 202 with failures is not an error for every client version
        pytest.fail(f"store raised {exc}")

    assert [item.ReferencedSOPInstanceUID for item in answer.FailedSOPSequence] == [
        stranger.SOPInstanceUID
    ]
    assert answer.FailedSOPSequence[0].FailureReason == 0x0124
    assert [item.ReferencedSOPInstanceUID for item in answer.ReferencedSOPSequence] == [
        mine.SOPInstanceUID
    ]
    assert len(orthanc.get_json("/instances")) == 1


def test_another_groups_member_finds_and_retrieves_nothing(
    dicomweb_as, member_b, patient_a, orthanc
):
    from requests import HTTPError

    study = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    orthanc.store_instance(io.BytesIO(study[0].content))
    client = dicomweb_as(member_b)

    assert client.search_for_studies() == []
    with pytest.raises(HTTPError) as info:
        client.retrieve_study(study[0].study_uid)
    assert info.value.response.status_code == 404


def test_a_share_link_visitor_with_a_real_client_gets_that_study_and_nothing_else(
    live_server, admin, patient_a, orthanc
):
    """dicomweb-client on the cookie a browser gets from /s/<token>: the shared study is
    searched and retrieved; another study of the same patient, and any write, are refused."""
    import requests
    from django.test import Client
    from requests import HTTPError

    shared = demo_study(patient_id="CARDIO-001", ct_count=2, mr_count=0)
    other = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    for instance in shared + other:
        orthanc.store_instance(instance.content)
    staff = Client()
    staff.force_login(admin)
    made = staff.post(
        "/api/shares", {"study_uid": shared[0].study_uid}, content_type="application/json"
    ).json()
    session = requests.Session()
    landing = session.get(made["url"].replace("http://testserver", live_server.url))
    assert landing.status_code == 200  # the viewer page, after the redirect
    client = DICOMwebClient(url=f"{live_server.url}/dicom-web", session=session)

    found = client.search_for_studies()
    retrieved = client.retrieve_study(shared[0].study_uid)
    refused = []
    for call in (
        lambda: client.retrieve_study_metadata(other[0].study_uid),
        lambda: client.store_instances(datasets=[dcmread(io.BytesIO(other[0].content))]),
    ):
        try:
            call()
        except HTTPError as error:
            refused.append(error.response.status_code)

    assert [s["0020000D"]["Value"][0] for s in found] == [shared[0].study_uid]
    assert {ds.SOPInstanceUID for ds in retrieved} == {i.sop_uid for i in shared}
    assert refused == [401, 401]
