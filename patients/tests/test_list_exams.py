"""The patient list: each patient's exams (from the study index) and a filter by care group."""

from __future__ import annotations

import pytest

from accounts.tests.factories import GroupFactory
from orthanc_bridge.index.models import IndexedStudy
from orthanc_bridge.tests.factories import IndexedStudyFactory
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def exam(patient, n: int, study_date: str, modalities: str) -> None:
    IndexedStudyFactory(
        patient=patient, study_uid=f"1.2.3.{n}", study_date=study_date, modalities=modalities
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


def test_exams_are_shown_only_to_those_who_may_see_images(login_client, group_a):
    from accounts import rights
    from accounts.tests.factories import UserFactory

    secretariat = GroupFactory(name="Secrétariat", rights=[rights.VIEW_GROUP_PATIENTS])
    secretary = UserFactory(email="sec@hopital.example", groups=[secretariat])
    patient = PatientFactory(external_id="IPP-1", family_name="Dupré", groups=[secretariat])
    exam(patient, 1, "20250310", " CT ")

    body = login_client(secretary).get("/patients/").content.decode()

    assert ">IPP-1<" in body and "10/03/2025" not in body and "Examens" not in body


def test_an_odd_group_parameter_is_ignored(login_client, viewer_all):
    assert login_client(viewer_all).get("/patients/", {"group": "²"}).status_code == 200


def test_studies_served_to_nobody_are_not_counted(login_client, viewer_all, group_a):
    patient = PatientFactory(external_id="IPP-1", family_name="Dupré", groups=[group_a])
    exam(patient, 1, "20240105", " CT ")
    exam(patient, 2, "20250310", " MR ")
    IndexedStudy.objects.filter(study_uid="1.2.3.2").update(uid_shared=True)

    body = login_client(viewer_all).get("/patients/").content.decode()

    assert "1 · dernier 05/01/2024 CT" in body
