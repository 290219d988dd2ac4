from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from devtools.dicom_samples import demo_study
from orthanc_bridge.tests.conftest import as_upload, zip_of

pytestmark = pytest.mark.django_db


def bearer(api_token, user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token(user)}"}


def instances_in_orthanc(orthanc) -> int:
    return len(orthanc.get_json("/instances"))


def test_the_page_endpoint_stores_a_study_then_lists_it(
    login_client, uploader, patient_a, orthanc, study_a
):
    client = login_client(uploader)

    response = client.post(
        f"/patients/{patient_a.pk}/dicom/",
        {"files": as_upload(study_a)},
        HTTP_ACCEPT="application/json",
    )
    panel = client.get(
        f"/patients/{patient_a.pk}/studies/", HTTP_HX_REQUEST="true"
    ).content.decode()

    assert response.json()["stored"] == 5
    assert response.json()["rejected"] == []
    assert [f["status"] for f in response.json()["files"]] == ["stored"] * 5
    assert instances_in_orthanc(orthanc) == 5
    assert "Demo CT and MR" in panel
    assert panel.count("/thumbnail?i=") == 2


def test_the_page_endpoint_without_javascript_shows_a_results_page(
    login_client, uploader, patient_a, orthanc, study_a
):
    response = login_client(uploader).post(
        f"/patients/{patient_a.pk}/dicom/",
        {"files": as_upload(study_a[:1])},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "1 stored, 0 already present, 0 rejected." in response.content.decode()


def test_the_api_takes_multipart_files(client, api_token, uploader, patient_a, orthanc, study_a):
    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": as_upload(study_a)},
        **bearer(api_token, uploader),
    )

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("stored", "already_present", "rejected")} == {
        "stored": 5, "already_present": 0, "rejected": [],
    }  # fmt: skip


def test_the_api_takes_a_single_dicom_body(
    client, api_token, uploader, patient_a, orthanc, study_a
):
    response = client.generic(
        "POST", f"/api/patients/{patient_a.pk}/dicom", study_a[0].content,
        content_type="application/dicom", **bearer(api_token, uploader),
    )  # fmt: skip

    assert response.json()["stored"] == 1
    assert instances_in_orthanc(orthanc) == 1


def test_the_api_takes_a_zip_body(client, api_token, uploader, patient_a, orthanc, study_a):
    body = zip_of({f"exam/{i.filename}": i.content for i in study_a})

    response = client.generic(
        "POST", f"/api/patients/{patient_a.pk}/dicom", body,
        content_type="application/zip", **bearer(api_token, uploader),
    )  # fmt: skip

    assert response.json()["stored"] == 5
    assert response.json()["files"][0]["file"] == "upload.zip/exam/CT-0001.dcm"


def test_an_unsupported_body_type_is_a_400(client, api_token, uploader, patient_a, orthanc):
    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom", {"a": 1}, content_type="application/json",
        **bearer(api_token, uploader),
    )  # fmt: skip

    assert response.status_code == 400


def test_a_duplicate_is_reported_as_already_present(
    client, api_token, uploader, patient_a, orthanc, study_a
):
    headers = bearer(api_token, uploader)
    client.post(f"/api/patients/{patient_a.pk}/dicom", {"files": as_upload(study_a[:2])}, **headers)

    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom", {"files": as_upload(study_a[:3])}, **headers
    )

    assert response.json()["stored"] == 1
    assert response.json()["already_present"] == 2


def test_bad_files_are_rejected_with_reasons_and_good_ones_are_kept(
    client, api_token, uploader, patient_a, orthanc, study_a, settings
):
    other_patient = demo_study(patient_id="SOMEONE-ELSE", ct_count=1, mr_count=0)[0]
    truncated = study_a[1].content[: len(study_a[1].content) // 2]
    evil_zip = zip_of(
        {"../../etc/evil.dcm": study_a[2].content, "ok/inside.dcm": study_a[3].content}
    )
    big_zip = zip_of({"a.dcm": study_a[4].content, "padding.bin": b"\0" * 200_000})
    settings.UPLOAD_ZIP_MAX_EXPANDED_BYTES = 100_000
    files = [
        SimpleUploadedFile("good.dcm", study_a[0].content),
        SimpleUploadedFile("other.dcm", other_patient.content),
        SimpleUploadedFile("notes.txt", b"this is not an image\n" * 20),
        SimpleUploadedFile("cut.dcm", truncated),
        SimpleUploadedFile("evil.zip", evil_zip),
        SimpleUploadedFile("big.zip", big_zip),
    ]

    body = client.post(
        f"/api/patients/{patient_a.pk}/dicom", {"files": files}, HTTP_ACCEPT_LANGUAGE="en",
        **bearer(api_token, uploader),
    ).json()  # fmt: skip

    reasons = {r["file"]: r["reason"] for r in body["rejected"]}
    assert body["stored"] == 2  # good.dcm and ok/inside.dcm
    # One line per file, in the order sent, even though stores run a few at a time.
    assert [(f["file"], f["status"]) for f in body["files"]] == [
        ("good.dcm", "stored"), ("other.dcm", "rejected"), ("notes.txt", "rejected"),
        ("cut.dcm", "rejected"), ("evil.zip/../../etc/evil.dcm", "rejected"),
        ("evil.zip/ok/inside.dcm", "stored"), ("big.zip", "rejected"),
    ]  # fmt: skip
    assert "SOMEONE-ELSE" in reasons["other.dcm"] and "CARDIO-001" in reasons["other.dcm"]
    assert "Not a DICOM file" in reasons["notes.txt"]
    assert "Truncated DICOM file" in reasons["cut.dcm"]
    assert "Unsafe path" in reasons["evil.zip/../../etc/evil.dcm"]
    assert "past the limit" in reasons["big.zip"]
    # Nothing rejected reached Orthanc.
    stored_uids = {
        orthanc.get_json(f"/instances/{i}/simplified-tags")["SOPInstanceUID"]
        for i in orthanc.get_json("/instances")
    }
    assert stored_uids == {study_a[0].sop_uid, study_a[3].sop_uid}


def test_every_upload_is_audited_with_its_counts(
    client, api_token, uploader, patient_a, orthanc, study_a
):
    files = [*as_upload(study_a[:2]), SimpleUploadedFile("x.txt", b"nope")]

    client.post(
        f"/api/patients/{patient_a.pk}/dicom", {"files": files}, **bearer(api_token, uploader)
    )

    event = AuditEvent.objects.get(action="dicom.upload")
    assert event.patient_external_id == "CARDIO-001"
    assert event.actor_email == "manip@hopital.example"
    assert event.changes == {"stored": 2, "already_present": 0, "rejected": 1}


def test_upload_needs_the_right(client, api_token, member_a, patient_a, orthanc, study_a):
    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": as_upload(study_a[:1])},
        **bearer(api_token, member_a),
    )

    assert response.status_code == 403
    assert instances_in_orthanc(orthanc) == 0


def test_upload_from_the_page_needs_the_right(login_client, member_a, patient_a, orthanc, study_a):
    response = login_client(member_a).post(
        f"/patients/{patient_a.pk}/dicom/", {"files": as_upload(study_a[:1])}
    )

    assert response.status_code == 403
    assert instances_in_orthanc(orthanc) == 0


def test_upload_to_an_invisible_patient_is_404(
    client, api_token, login_client, patient_a, orthanc, study_a, group_b
):
    from accounts import rights
    from accounts.tests.factories import GroupFactory, UserFactory

    outsider = UserFactory(
        groups=[group_b, GroupFactory(name="Upload B", rights=[rights.UPLOAD_DICOM])]
    )

    api = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": as_upload(study_a[:1])},
        **bearer(api_token, outsider),
    )
    page = login_client(outsider).post(
        f"/patients/{patient_a.pk}/dicom/", {"files": as_upload(study_a[:1])}
    )

    assert api.status_code == 404
    assert page.status_code == 404
    assert instances_in_orthanc(orthanc) == 0


def test_upload_with_orthanc_down_is_a_clear_503(client, api_token, uploader, patient_a, study_a):
    # No `orthanc` fixture: the portal points at a closed port.
    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": as_upload(study_a[:2])},
        **bearer(api_token, uploader),
    )

    assert response.status_code == 503
    assert response.json()["code"] == "orthanc_unavailable"
    assert response.json()["stored"] == 0


def test_large_files_are_streamed_one_at_a_time(
    client, api_token, uploader, patient_a, orthanc, study_a, monkeypatch
):
    from orthanc_bridge.ingest.pipeline import Sender as _OrthancSender

    # Every file counts as "large" here, so each is streamed from its file instead of read.
    monkeypatch.setattr(_OrthancSender, "INLINE_MAX_BYTES", 0)

    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": as_upload(study_a)},
        **bearer(api_token, uploader),
    )

    assert response.json()["stored"] == 5
    assert instances_in_orthanc(orthanc) == 5


def test_orthanc_stopping_mid_batch_keeps_what_was_stored(uploader, patient_a, tmp_path, settings):
    """A real Orthanc of its own, stopped after two files: the rest is reported, nothing lost."""
    import io

    from audit.models import Action
    from devtools.dicom_samples import demo_study
    from devtools.local_server import LocalOrthanc, free_port
    from orthanc_bridge.client import OrthancClient
    from orthanc_bridge.ingest.pipeline import ingest
    from orthanc_bridge.ingest.sources import Part

    server = LocalOrthanc(
        tmp_path / "orthanc", http_port=free_port(), dicom_port=free_port()
    ).start()
    settings.ORTHANC_URL, settings.ORTHANC_PASSWORD = server.url, server.password
    settings.UPLOAD_ORTHANC_CONCURRENCY = 1
    instances = demo_study(patient_id="CARDIO-001", ct_count=4, mr_count=0)

    def files():
        for number, instance in enumerate(instances):
            if number == 2:
                server.stop()
            yield Part(instance.filename, io.BytesIO(instance.content))

    try:
        report = ingest(
            actor=uploader, parts=files(), action=Action.DICOM_UPLOAD, patient=patient_a
        )
    finally:
        server.stop()
    server.start()
    try:
        client = OrthancClient(server.url, "preview", server.password)
        client.probe()  # what the health check does: Orthanc answers again
        kept = client.get_json("/instances")
    finally:
        server.stop()

    assert report.orthanc_unavailable is True
    assert [f.status for f in report.files] == ["stored", "stored", "rejected", "rejected"]
    assert len(kept) == 2


def test_a_file_whose_name_or_birth_date_differ_from_the_record_is_stored_with_a_warning(
    client, api_token, uploader, patient_a, orthanc
):
    patient_a.given_name, patient_a.birth_date = "Anne", datetime.date(1980, 5, 17)
    patient_a.save()
    same = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0,
                      patient_name="DURAND^Anne", birth_date="19800517")  # fmt: skip
    other = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0,
                       patient_name="MARTIN^Paul", birth_date="19750101")  # fmt: skip

    answer = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": as_upload(same + other)},
        **bearer(api_token, uploader),
    ).json()

    assert answer["stored"] == 2
    first, second = answer["files"]
    assert first["warning"] == ""
    assert "MARTIN Paul" in second["warning"] and "01/01/1975" in second["warning"]
    assert "17/05/1980" in second["warning"]


def page_batch(client, patient, instances, upload_id: str, batches: int):
    return client.post(
        f"/patients/{patient.pk}/dicom/",
        {"files": as_upload(instances), "upload_id": upload_id, "batches": batches},
        HTTP_ACCEPT="application/json",
    )


def test_the_batches_of_one_page_upload_are_one_audit_event(
    login_client, uploader, patient_a, orthanc
):
    client = login_client(uploader)
    study = demo_study(patient_id="CARDIO-001", ct_count=3, mr_count=2)
    upload_id = "0b6f3a5e-6c1d-4d7e-9a53-2f1c3b4a5d6e"
    events = AuditEvent.objects.filter(action="dicom.upload")

    assert page_batch(client, patient_a, study[:3], upload_id, 2).status_code == 200
    assert events.count() == 0  # the user's action is not over
    assert page_batch(client, patient_a, study[3:] + study[:1], upload_id, 2).status_code == 200

    event = events.get()
    assert event.changes == {"stored": 5, "already_present": 1, "rejected": 0, "batches": "2/2"}
    assert event.patient_external_id == "CARDIO-001"


def test_an_upload_whose_page_stopped_sending_still_gets_its_event(
    login_client, uploader, patient_a, orthanc
):
    from orthanc_bridge.ingest.actions import flush_stale

    study = demo_study(patient_id="CARDIO-001", ct_count=2, mr_count=0)
    page_batch(login_client(uploader), patient_a, study, "5d3c2b1a-0000-4000-8000-000000000001", 3)

    assert flush_stale(older_than=0) == 1

    event = AuditEvent.objects.get(action="dicom.upload")
    assert event.changes == {"stored": 2, "already_present": 0, "rejected": 0, "batches": "1/3"}


def test_another_users_upload_id_is_never_merged(login_client, uploader, admin, patient_a, orthanc):
    study = demo_study(patient_id="CARDIO-001", ct_count=2, mr_count=0)
    shared = "5d3c2b1a-0000-4000-8000-000000000002"
    page_batch(login_client(uploader), patient_a, study[:1], shared, 2)

    page_batch(login_client(admin), patient_a, study[1:], shared, 2)

    event = AuditEvent.objects.get(action="dicom.upload")
    assert event.actor_email == admin.email and event.changes["stored"] == 1


def test_an_upload_that_trickles_on_is_written_within_its_maximum_age(
    login_client, uploader, patient_a, orthanc
):
    import datetime as dt

    from django.utils import timezone

    from orthanc_bridge.ingest.actions import flush_stale
    from orthanc_bridge.ingest.models import UploadAction

    study = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    page_batch(login_client(uploader), patient_a, study, "5d3c2b1a-0000-4000-8000-000000000003", 9)
    UploadAction.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))

    assert flush_stale() == 1  # recently updated, but started two hours ago
    assert AuditEvent.objects.get(action="dicom.upload").changes["batches"] == "1/9"
