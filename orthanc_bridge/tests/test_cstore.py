"""Studies pushed by a modality over DICOM (C-STORE), with pynetdicom as the modality."""

from __future__ import annotations

import io

import pytest
from pydicom import dcmread
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, MRImageStorage

from devtools.dicom_samples import demo_study
from devtools.local_server import AE_TITLE
from orthanc_bridge.index.sync import follow_once

pytestmark = pytest.mark.django_db


def c_store(orthanc_server, instances, calling_ae: str = "TESTSCU") -> list[int]:
    ae = AE(ae_title=calling_ae)
    ae.add_requested_context(CTImageStorage)
    ae.add_requested_context(MRImageStorage)
    assoc = ae.associate("127.0.0.1", orthanc_server.dicom_port, ae_title=AE_TITLE)
    if not assoc.is_established:
        return [-1]
    try:
        # An empty answer (no Status) means the store was refused or the association aborted.
        return [
            getattr(assoc.send_c_store(dcmread(io.BytesIO(i.content))), "Status", -1)
            for i in instances
        ]
    finally:
        assoc.release()


def test_a_pushed_study_appears_under_its_patient(
    client, api_token, member_a, patient_a, orthanc, orthanc_server, study_a
):
    statuses = c_store(orthanc_server, study_a)
    follow_once()  # what the follower does, a moment later

    studies = client.get(
        f"/api/patients/{patient_a.pk}/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}"
    ).json()
    assert statuses == [0x0000] * 5
    assert [s["study_instance_uid"] for s in studies] == [study_a[0].study_uid]


def test_an_undeclared_modality_cannot_push(orthanc, orthanc_server, study_a):
    statuses = c_store(orthanc_server, study_a[:1], calling_ae="INTRUDER")

    assert statuses != [0x0000]
    assert orthanc.get_json("/instances") == []


def test_a_study_with_an_unknown_patient_id_is_listed_as_unassigned(
    login_client, admin, member_a, orthanc, orthanc_server
):
    c_store(orthanc_server, demo_study(patient_id="ER-4471", patient_name="Inconnu^Jean", sex="M"))
    follow_once()

    page = login_client(admin).get("/studies/unassigned/").content.decode()

    assert "ER-4471" in page
    assert "Inconnu Jean" in page
    assert (
        "/patients/new/?external_id=ER-4471&amp;family_name=Inconnu&amp;given_name=Jean&amp;birth_date=1970-01-01&amp;sex=M"
        in page
    )
    assert login_client(member_a).get("/studies/unassigned/").status_code == 403


def test_a_study_whose_patient_exists_is_not_unassigned(
    login_client, viewer_all, patient_a, orthanc, orthanc_server, study_a
):
    c_store(orthanc_server, study_a)

    page = login_client(viewer_all).get("/studies/unassigned/").content.decode()

    assert "CARDIO-001" not in page


def test_create_from_a_study_prefills_the_form(login_client, admin):
    page = (
        login_client(admin)
        .get(
            "/patients/new/?external_id=ER-4471&family_name=Inconnu&given_name=Jean&birth_date=1970-01-01&sex=M"
        )
        .content.decode()
    )

    assert 'value="ER-4471"' in page
    assert 'value="Inconnu"' in page
    assert 'value="1970-01-01"' in page
    assert '<option value="M" selected>' in page
