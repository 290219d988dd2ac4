"""The patient list: each patient's exams (from the study index) and a filter by care group."""

from __future__ import annotations

import pytest

from accounts.tests.factories import GroupFactory
from orthanc_bridge.index.models import IndexedStudy
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def exam(patient, n: int, study_date: str, modalities: str) -> None:
    IndexedStudy.objects.create(
        orthanc_id=f"{n:08d}-00000000-00000000-00000000-00000000",
        study_uid=f"1.2.3.{n}",
        dicom_patient_id=patient.external_id,
        patient=patient,
        study_date=study_date,
        modalities=modalities,
    )


def test_each_row_tells_the_number_of_exams_and_the_latest(login_client, viewer_all, group_a):
    dupre = PatientFactory(external_id="IPP-1", family_name="Dupré", groups=[group_a])
    PatientFactory(external_id="IPP-2", family_name="Martin", groups=[group_a])
    exam(dupre, 1, "20240105", " CT ")
    exam(dupre, 2, "20250310", " MR SR ")

    body = login_client(viewer_all).get("/patients/").content.decode()

    dupre_row = body[body.index(">IPP-1<") :].split("</tr>")[0]
    martin_row = body[body.index(">IPP-2<") :].split("</tr>")[0]
    assert "2 · dernier 10/03/2025 MR, SR" in dupre_row
    assert "<td>—</td>" in martin_row


def test_the_list_filters_by_care_group(login_client, viewer_all, group_a):
    radiology = GroupFactory(name="Radiologie")
    PatientFactory(external_id="IPP-1", family_name="Dupré", groups=[group_a])
    PatientFactory(external_id="IPP-2", family_name="Martin", groups=[radiology])
    client = login_client(viewer_all)

    page = client.get("/patients/").content.decode()
    filtered = client.get("/patients/", {"group": radiology.pk}).content.decode()

    assert f'<option value="{radiology.pk}">Radiologie</option>' in page
    assert ">IPP-2<" in filtered and ">IPP-1<" not in filtered
