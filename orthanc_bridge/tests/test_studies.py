from __future__ import annotations

import io
import zipfile

import pytest

from devtools.dicom_samples import demo_study
from orthanc_bridge.tests.conftest import as_upload

pytestmark = pytest.mark.django_db


def store(orthanc, instances) -> None:
    for instance in instances:
        orthanc.store_instance(io.BytesIO(instance.content))


def test_the_detail_page_loads_the_studies_on_demand(login_client, member_a, patient_a):
    # No Orthanc at all: the page itself renders; the panel is fetched by HTMX afterwards.
    response = login_client(member_a).get(f"/patients/{patient_a.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="/patients/{patient_a.pk}/studies/"' in body
    assert 'hx-trigger="load"' in body


def test_the_panel_lists_studies_with_series_and_links(
    login_client, member_a, patient_a, orthanc, study_a
):
    store(orthanc, study_a)

    body = (
        login_client(member_a)
        .get(f"/patients/{patient_a.pk}/studies/", HTTP_HX_REQUEST="true")
        .content.decode()
    )

    assert body.lstrip().startswith('<div id="studies-panel">')
    assert "Demo CT and MR" in body
    assert "CT, MR" in body
    assert "Docteur Demo" in body
    assert f"/viewer/viewer?StudyInstanceUIDs={study_a[0].study_uid}" in body
    assert "/archive" in body


def test_the_api_returns_the_same_studies(client, api_token, member_a, patient_a, orthanc, study_a):
    store(orthanc, study_a)

    response = client.get(
        f"/api/patients/{patient_a.pk}/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}"
    )

    (study,) = response.json()
    assert study["study_instance_uid"] == study_a[0].study_uid
    assert study["modalities"] == ["CT", "MR"]
    assert study["description"] == "Demo CT and MR"
    assert study["viewer_url"] == f"/viewer/viewer?StudyInstanceUIDs={study_a[0].study_uid}"
    assert [(s["modality"], s["instance_count"]) for s in study["series"]] == [("CT", 3), ("MR", 2)]
    assert set(study["series"][0]) == {
        "series_instance_uid",
        "modality",
        "description",
        "instance_count",
    }


def test_other_patients_studies_are_not_listed(
    client, api_token, member_a, patient_a, orthanc, study_a
):
    store(orthanc, study_a + demo_study(patient_id="CARDIO-0012", ct_count=1, mr_count=0))

    response = client.get(
        f"/api/patients/{patient_a.pk}/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}"
    )

    assert len(response.json()) == 1


def test_a_thumbnail_is_a_png_cached_by_the_browser(
    login_client, member_a, patient_a, orthanc, study_a
):
    store(orthanc, study_a)
    client = login_client(member_a)
    panel = client.get(
        f"/patients/{patient_a.pk}/studies/", HTTP_HX_REQUEST="true"
    ).content.decode()
    url = panel.split('src="')[1].split('"')[0].replace("&amp;", "&")

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert response["Cache-Control"] == "private, no-store"


def test_the_zip_download_holds_the_study(login_client, member_a, patient_a, orthanc, study_a):
    from audit.models import AuditEvent

    store(orthanc, study_a)
    study_id = orthanc.find_studies({"PatientID": "CARDIO-001"})[0]["ID"]

    response = login_client(member_a).get(f"/patients/{patient_a.pk}/studies/{study_id}/archive")

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert response["Content-Type"] == "application/zip"
    assert len([n for n in archive.namelist() if not n.endswith("/")]) == 5
    assert (
        AuditEvent.objects.filter(action="study.download", patient_external_id="CARDIO-001").count()
        == 1
    )


def test_another_groups_member_gets_404_everywhere(
    login_client, client, api_token, member_b, patient_a, orthanc, study_a
):
    store(orthanc, study_a)
    study_id = orthanc.find_studies({"PatientID": "CARDIO-001"})[0]["ID"]
    series_id = orthanc.study_series(study_id)[0]["ID"]
    page = login_client(member_b)

    assert page.get(f"/patients/{patient_a.pk}/studies/").status_code == 404
    assert page.get(f"/patients/{patient_a.pk}/series/{series_id}/thumbnail").status_code == 404
    assert page.get(f"/patients/{patient_a.pk}/studies/{study_id}/archive").status_code == 404
    assert (
        page.post(f"/patients/{patient_a.pk}/dicom/", {"files": as_upload(study_a[:1])}).status_code
        == 404
    )
    api = client.get(
        f"/api/patients/{patient_a.pk}/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(member_b)}"
    )
    assert api.status_code == 404


def test_a_series_of_another_patient_is_404_through_my_patient(
    login_client, member_a, patient_a, group_a, orthanc, study_a
):
    """Knowing another patient's Orthanc IDs is not enough: they must belong to this patient."""
    from patients.tests.factories import PatientFactory

    other = demo_study(patient_id="HIDDEN-9", ct_count=1, mr_count=0)
    PatientFactory(external_id="HIDDEN-9")  # in no group: invisible to member_a
    store(orthanc, study_a + other)
    other_study = orthanc.find_studies({"PatientID": "HIDDEN-9"})[0]["ID"]
    other_series = orthanc.study_series(other_study)[0]["ID"]
    client = login_client(member_a)

    assert (
        client.get(f"/patients/{patient_a.pk}/series/{other_series}/thumbnail").status_code == 404
    )
    assert client.get(f"/patients/{patient_a.pk}/studies/{other_study}/archive").status_code == 404


def test_images_need_the_view_images_right(
    login_client, client, api_token, patient_a, group_a, orthanc
):
    from accounts.tests.factories import UserFactory

    group_a.permissions.remove(*group_a.permissions.filter(codename="view_images"))
    nurse = UserFactory(groups=[group_a])

    assert login_client(nurse).get(f"/patients/{patient_a.pk}/studies/").status_code == 403
    api = client.get(
        f"/api/patients/{patient_a.pk}/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(nurse)}"
    )
    assert api.status_code == 403


def test_the_list_is_read_from_the_index_and_an_upload_is_listed_at_once(
    client, api_token, uploader, patient_a, orthanc, study_a
):
    from orthanc_bridge.client import OrthancClient

    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(uploader)}"}
    store(orthanc, study_a[:1])
    assert len(client.get(f"/api/patients/{patient_a.pk}/studies", **headers).json()) == 1

    # A study arriving behind the portal's back (e.g. C-STORE) is listed once the follower has
    # indexed it: proof that the list does not ask Orthanc.
    behind = OrthancClient(orthanc.base_url, "preview", orthanc.session.auth[1])
    behind.store_instance(demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0].content)
    assert len(client.get(f"/api/patients/{patient_a.pk}/studies", **headers).json()) == 1

    # An upload through the portal is indexed before its answer goes out.
    third_study = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    client.post(f"/api/patients/{patient_a.pk}/dicom", {"files": as_upload(third_study)}, **headers)
    assert len(client.get(f"/api/patients/{patient_a.pk}/studies", **headers).json()) == 2


def test_the_patient_list_never_calls_orthanc(login_client, member_a, patient_a):
    # No Orthanc is running for this test: the list must still render.
    assert login_client(member_a).get("/patients/").status_code == 200


def test_orthanc_down_still_lists_the_indexed_studies_on_the_page_and_the_api(
    login_client, client, api_token, member_a, patient_a, indexed_study_a
):
    page = login_client(member_a)

    panel = page.get(
        f"/patients/{patient_a.pk}/studies/", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en"
    )
    api = client.get(
        f"/api/patients/{patient_a.pk}/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}"
    )

    assert panel.status_code == 200
    assert "Cardiac CT" in panel.content.decode()
    assert api.status_code == 200
    assert [s["study_instance_uid"] for s in api.json()] == [indexed_study_a.study_uid]


def test_a_thumbnail_with_orthanc_down_is_a_placeholder_not_cached(
    login_client, member_a, patient_a, indexed_study_a
):
    series = indexed_study_a.series.get().orthanc_id
    response = login_client(member_a).get(f"/patients/{patient_a.pk}/series/{series}/thumbnail")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "private, no-store"


def test_a_download_with_orthanc_down_is_a_503_page(
    login_client, member_a, patient_a, indexed_study_a
):
    study = indexed_study_a.orthanc_id
    response = login_client(member_a).get(f"/patients/{patient_a.pk}/studies/{study}/archive")

    assert response.status_code == 503
    assert "text/html" in response["Content-Type"]


def test_the_unassigned_list_is_paged_from_the_index(login_client, admin, settings):
    from orthanc_bridge.index.models import IndexedStudy

    settings.ORTHANC_URL = "http://127.0.0.1:9"  # the page asks Orthanc nothing
    IndexedStudy.objects.bulk_create(
        IndexedStudy(
            orthanc_id=f"{n:08x}-00000000-00000000-00000000-00000000",
            study_uid=f"1.2.3.{n}",
            dicom_patient_id=f"ER-{n:04d}",
        )
        for n in range(30)
    )
    client = login_client(admin)

    first = client.get("/studies/unassigned/").content.decode()
    second = client.get("/studies/unassigned/?page=2").content.decode()

    assert first.count("<code>ER-") == 25 and "ER-0000" in first
    assert second.count("<code>ER-") == 5 and "ER-0029" in second
    assert "?page=2" in first
