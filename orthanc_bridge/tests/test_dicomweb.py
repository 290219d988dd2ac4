"""DICOMweb through the portal: who gets what, filtering, and correct URLs."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from accounts import rights
from accounts.tests.factories import GroupFactory, UserFactory
from devtools.dicom_samples import demo_study
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

MULTIPART_DICOM = 'multipart/related; type="application/dicom"'


@pytest.fixture
def stored(orthanc, patient_a, group_b, study_a):
    PatientFactory(external_id="RADIO-001", family_name="Petit", groups=[group_b])
    study_b = demo_study(patient_id="RADIO-001", ct_count=2, mr_count=0)
    for instance in study_a + study_b:
        orthanc.store_instance(io.BytesIO(instance.content))
    return study_a, study_b


@pytest.fixture
def personas(admin, member_a, member_b, patient_a):
    """Plus a secretary who sees patient A (through her own group) but may not view images."""
    secretariat = GroupFactory(name="Secrétariat cardio", rights=[rights.VIEW_GROUP_PATIENTS])
    patient_a.groups.add(secretariat)
    secretary = UserFactory(email="secretariat@hopital.example", groups=[secretariat])
    return {"admin": admin, "member_a": member_a, "member_b": member_b, "no_images": secretary}


def endpoints(study_a):
    ct = study_a[0]
    base = f"/dicom-web/studies/{ct.study_uid}"
    series = f"{base}/series/{ct.series_uid}"
    instance = f"{series}/instances/{ct.sop_uid}"
    return {
        "qido series of study": (f"{base}/series", "application/dicom+json"),
        "qido instances of series": (f"{series}/instances", "application/dicom+json"),
        "qido instances of study": (f"{base}/instances", "application/dicom+json"),
        "retrieve study": (base, MULTIPART_DICOM),
        "retrieve series": (series, MULTIPART_DICOM),
        "retrieve instance": (instance, MULTIPART_DICOM),
        "study metadata": (f"{base}/metadata", "application/dicom+json"),
        "series metadata": (f"{series}/metadata", "application/dicom+json"),
        "instance metadata": (f"{instance}/metadata", "application/dicom+json"),
        "frames": (f"{instance}/frames/1", 'multipart/related; type="application/octet-stream"'),
        "rendered": (f"{instance}/rendered", "image/jpeg"),
        "bulk": (f"{instance}/bulk/7fe00010", 'multipart/related; type="application/octet-stream"'),
    }


def get(client: Client, user, url: str, accept: str):
    if user is not None:
        client.force_login(user)
    return client.get(url, HTTP_ACCEPT=accept)


EXPECTED = {"admin": 200, "member_a": 200, "member_b": 404, "no_images": 403, "anonymous": 401}


@pytest.mark.parametrize("persona", EXPECTED)
def test_the_access_matrix_for_everything_under_a_study(persona, personas, stored):
    study_a, _ = stored
    user = personas.get(persona)

    statuses = {}
    for name, (url, accept) in endpoints(study_a).items():
        client = Client()
        response = get(client, user, url, accept)
        statuses[name] = response.status_code
        if response.status_code != 200:
            assert response["Content-Type"] == "application/json"
            assert set(response.json()) == {"detail", "code"}

    assert statuses == dict.fromkeys(statuses, EXPECTED[persona])


@pytest.mark.parametrize("level", ["studies", "series", "instances"])
def test_qido_never_lists_another_groups_study(level, member_a, member_b, stored):
    study_a, study_b = stored

    def uids(user):
        client = Client()
        client.force_login(user)
        answer = client.get(f"/dicom-web/{level}", HTTP_ACCEPT="application/dicom+json").json()
        return {item["0020000D"]["Value"][0] for item in answer}

    assert uids(member_a) == {study_a[0].study_uid}
    assert uids(member_b) == {study_b[0].study_uid}


def test_qido_for_a_patient_id_i_cannot_see_is_empty_not_an_error(member_a, stored):
    client = Client()
    client.force_login(member_a)

    response = client.get("/dicom-web/studies", {"PatientID": "RADIO-001"})

    assert response.status_code == 200
    assert response.json() == []


def test_unassigned_studies_are_not_listed_even_for_view_all(viewer_all, orthanc, stored):
    for instance in demo_study(patient_id="NO-RECORD", ct_count=1, mr_count=0):
        orthanc.store_instance(io.BytesIO(instance.content))
    client = Client()
    client.force_login(viewer_all)

    answer = client.get("/dicom-web/studies").json()

    assert len(answer) == 2
    assert "NO-RECORD" not in json.dumps(answer)


def test_limit_and_offset_apply_to_the_filtered_list(member_a, orthanc, stored):
    for _ in range(4):
        for instance in demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0):
            orthanc.store_instance(io.BytesIO(instance.content))
        for instance in demo_study(patient_id="RADIO-001", ct_count=1, mr_count=0):
            orthanc.store_instance(io.BytesIO(instance.content))
    client = Client()
    client.force_login(member_a)

    everything = client.get("/dicom-web/studies").json()
    page1 = client.get("/dicom-web/studies", {"limit": 2, "offset": 0}).json()
    page3 = client.get("/dicom-web/studies", {"limit": 2, "offset": 4}).json()

    assert len(everything) == 5
    assert len(page1) == 2 and len(page3) == 1
    seen = [s["0020000D"]["Value"][0] for s in page1 + page3]
    assert len(set(seen)) == 3
    assert {s["00100020"]["Value"][0] for s in everything} == {"CARDIO-001"}


def test_includefield_with_encoded_commas_returns_the_description(member_a, stored):
    client = Client()
    client.force_login(member_a)

    # As OHIF sends it: includefield=00081030%2C00080060
    answer = client.get("/dicom-web/studies?includefield=00081030%2C00080060").json()

    assert answer[0]["00081030"]["Value"] == ["Demo CT and MR"]


def test_bulk_data_uris_point_at_the_host_the_client_used(member_a, stored, settings):
    settings.ALLOWED_HOSTS = ["portal.hopital.example"]
    study_a, _ = stored
    client = Client()
    client.force_login(member_a)

    metadata = client.get(
        f"/dicom-web/studies/{study_a[0].study_uid}/metadata", HTTP_HOST="portal.hopital.example"
    )

    body = b"".join(metadata.streaming_content).decode()
    uris = [item["7FE00010"]["BulkDataURI"] for item in json.loads(body) if "7FE00010" in item]
    assert uris
    assert all(
        uri.startswith("http://portal.hopital.example/dicom-web/studies/") for uri in uris
    ), uris[:1]
    assert "127.0.0.1" not in body


def test_a_bearer_token_works_and_a_bad_one_is_401(client, api_token, member_a, stored):
    ok = client.get("/dicom-web/studies", HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}")
    bad = client.get("/dicom-web/studies", HTTP_AUTHORIZATION="Bearer nope")

    assert ok.status_code == 200 and len(ok.json()) == 1
    assert bad.status_code == 401
    assert bad.json()["code"] == "token_not_valid"


def test_unknown_paths_and_methods_are_json_errors(member_a, stored):
    client = Client()
    client.force_login(member_a)

    assert client.get("/dicom-web/patients").status_code == 404
    assert client.get("/dicom-web/studies/../../system").status_code == 404
    assert client.delete("/dicom-web/studies").status_code == 405
    assert client.get("/dicom-web/studies/1.2.3.4").status_code == 404  # unknown study


def test_orthanc_down_is_a_json_503(member_a, patient_a, indexed_study_a):
    client = Client()
    client.force_login(member_a)

    response = client.get("/dicom-web/studies")

    assert response.status_code == 503
    assert response.json()["code"] == "orthanc_unavailable"


def test_a_study_view_is_audited_once_per_window(member_a, stored):
    from audit.models import AuditEvent

    study_a, _ = stored
    client = Client()
    client.force_login(member_a)
    for _ in range(3):
        client.get(f"/dicom-web/studies/{study_a[0].study_uid}/metadata")

    events = AuditEvent.objects.filter(action="images.view", actor_id=member_a.pk)
    assert events.count() == 1
    assert events.get().patient_external_id == "CARDIO-001"
    # Named as people know it: description and date, the UID kept beside.
    assert events.get().object_repr == "Demo CT and MR, 2004-01-19"
    assert events.get().object_id == study_a[0].study_uid


def test_removing_a_user_from_the_group_takes_effect_after_the_decision_window(
    member_a, group_a, stored, settings
):
    from django.core.cache import cache

    study_a, _ = stored
    client = Client()
    client.force_login(member_a)
    url = f"/dicom-web/studies/{study_a[0].study_uid}/metadata"
    assert client.get(url).status_code == 200

    member_a.groups.remove(group_a)
    cache.clear()  # the decision window passes

    assert client.get(url).status_code == 403  # no group left: no "view images" either


def stow_body(instances) -> tuple[bytes, str]:
    boundary = "b0undary-preview"
    parts = b"".join(
        f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + i.content + b"\r\n"
        for i in instances
    )
    return (
        parts + f"--{boundary}--\r\n".encode(),
        f'multipart/related; type="application/dicom"; boundary={boundary}',
    )


def test_stow_needs_the_upload_right(client, api_token, member_a, patient_a, orthanc):
    body, content_type = stow_body(demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0))

    response = client.generic(
        "POST", "/dicom-web/studies", body, content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {api_token(member_a)}",
    )  # fmt: skip

    assert response.status_code == 403
    assert orthanc.get_json("/instances") == []


def test_stow_with_a_session_needs_the_csrf_token(uploader, patient_a, orthanc):
    body, content_type = stow_body(demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0))
    client = Client(enforce_csrf_checks=True)
    client.force_login(uploader)

    refused = client.generic("POST", "/dicom-web/studies", body, content_type=content_type)
    client.get("/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.generic(
        "POST", "/dicom-web/studies", body, content_type=content_type, HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert accepted.status_code == 200
    assert len(orthanc.get_json("/instances")) == 1


def test_stow_rejects_non_dicom_parts_and_wrong_study(
    client, api_token, uploader, patient_a, orthanc
):
    good, other = (
        demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0),
        demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0),
    )
    body, content_type = stow_body(good + other)
    body = body.replace(other[0].content, b"garbage" * 50)

    response = client.generic(
        "POST", f"/dicom-web/studies/{good[0].study_uid}", body, content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}",
    )  # fmt: skip

    answer = response.json()
    assert response.status_code == 202
    assert len(answer["00081199"]["Value"]) == 1
    assert answer["00081198"]["Value"][0]["00081197"]["Value"] == [0xC000]
    study_url = f"/dicom-web/studies/{good[0].study_uid}"
    assert answer["00081190"]["Value"][0].endswith(study_url)
    assert answer["00081199"]["Value"][0]["00081190"]["Value"][0].endswith(
        f"{study_url}/series/{good[0].series_uid}/instances/{good[0].sop_uid}"
    )


def test_stow_of_a_bad_content_type_is_a_json_error(
    client, api_token, uploader, patient_a, orthanc
):
    response = client.post(
        "/dicom-web/studies", {"a": 1}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}",
    )  # fmt: skip

    assert response.status_code == 415
    assert response.json()["code"] == "invalid"


def test_a_token_of_a_deactivated_user_is_refused(client, api_token, member_a, stored):
    study_a, _ = stored
    token = api_token(member_a)
    member_a.is_active = False
    member_a.save()

    response = client.get(
        f"/dicom-web/studies/{study_a[0].study_uid}/metadata", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        {"PatientName": "Patient*"},
        {"PatientName": "Patien?^POC"},
        {"PatientID": "CARDIO-00*"},
        {"PatientName": "Patient^*"},
    ],
)
def test_wildcard_searches_reach_orthanc_as_wildcards(query, member_a, stored):
    study_a, _ = stored
    client = Client()
    client.force_login(member_a)

    answer = client.get("/dicom-web/studies", query).json()

    assert [s["0020000D"]["Value"][0] for s in answer] == [study_a[0].study_uid]


def test_rendered_parameters_with_commas_work(member_a, stored):
    study_a, _ = stored
    ct = study_a[0]
    client = Client()
    client.force_login(member_a)
    url = f"/dicom-web/studies/{ct.study_uid}/series/{ct.series_uid}/instances/{ct.sop_uid}"

    response = client.get(
        f"{url}/rendered",
        {"window": "40,400,linear", "viewport": "64,64"},
        HTTP_ACCEPT="image/jpeg",
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
