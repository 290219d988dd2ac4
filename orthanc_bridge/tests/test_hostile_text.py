"""Hostile text in patient records, DICOM tags, file names, users and groups is shown as text
on every page that shows it, never run as markup; and a spreadsheet opening the audit export
runs none of it as a formula.

The records are made the way users make them (the pages' forms, an upload, Orthanc's own
storage for what modalities send), then every page that can show them is fetched.
"""

from __future__ import annotations

import csv
import io
import re

import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.tests.factories import GroupFactory, UserFactory
from audit.views import FORMULA_START
from devtools.dicom_samples import demo_study
from patients.models import Patient

pytestmark = pytest.mark.django_db

# The start of each payload as a browser would run it; shown as text, none appears unescaped.
RUNNABLE = re.compile(r"<script>alert|<img src=x onerror|<svg onload|<iframe src", re.IGNORECASE)
FAMILY = "<script>alert(1)</script>"
GIVEN = '"><img src=x onerror=alert(2)>'
NOTES = "'><svg onload=alert(3)><iframe src=javascript:alert(4)>"
EXTERNAL_ID = "X<script>alert(5)</script>"  # a DICOM PatientID may hold < and >


def hostile(content: bytes, **tags: str) -> bytes:
    dataset = pydicom.dcmread(io.BytesIO(content))
    for tag, value in tags.items():
        setattr(dataset, tag, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


DICOM_TAGS = {
    "PatientName": "<script>alert(6)</script>^<img src=x onerror=alert(7)>",
    "StudyDescription": "<img src=x onerror=alert(8)>",
    "SeriesDescription": "<svg onload=alert(9)>",
    "ReferringPhysicianName": "<script>alert(10)</script>",
    "InstitutionName": '"><iframe src=javascript:alert(11)>',
}


@pytest.fixture
def hostile_world(admin, group_a, orthanc, login_client):
    """A patient made through the form, its study uploaded through the page, an unassigned
    study stored straight in Orthanc, a share link, a user and a group with hostile names."""
    client = login_client(admin)
    answer = client.post(
        "/patients/new/",
        {"external_id": EXTERNAL_ID, "family_name": FAMILY, "given_name": GIVEN, "notes": NOTES,
         "sex": "", "groups": [group_a.pk]},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content
    patient = Patient.objects.get(external_id=EXTERNAL_ID)
    study = demo_study(patient_id=EXTERNAL_ID, ct_count=1, mr_count=1)
    files = [
        SimpleUploadedFile(f"<img src=x onerror=alert({n})>.dcm", hostile(i.content, **DICOM_TAGS))
        for n, i in enumerate(study, start=20)
    ]
    upload = client.post(f"/patients/{patient.pk}/dicom/", {"files": files})
    stray = demo_study(patient_id="<svg onload=alert(30)>", ct_count=1, mr_count=0)[0]
    orthanc.store_instance(io.BytesIO(hostile(stray.content, **DICOM_TAGS)))
    link = client.post(
        "/api/shares", {"study_uid": study[0].study_uid, "note": NOTES},
        content_type="application/json",
    )  # fmt: skip
    assert link.status_code == 201, link.content
    UserFactory(email="evil@hopital.example", name=FAMILY, groups=[GroupFactory(name=GIVEN)])
    return {"patient": patient, "study_uid": study[0].study_uid, "upload": upload,
            "link": link.json()["url"].removeprefix("http://testserver")}  # fmt: skip


def pages(world) -> list[str]:
    pk, uid = world["patient"].pk, world["study_uid"]
    return [
        "/", "/patients/", f"/patients/?q={FAMILY}", f"/patients/{pk}/", f"/patients/{pk}/edit/",
        f"/patients/{pk}/studies/", "/studies/", "/studies/?q=X",
        "/studies/unassigned/", f"/studies/{uid}/share", "/shares/", "/audit/",
        f"/audit/?patient={EXTERNAL_ID}", "/accounts/users/", "/accounts/groups/",
        "/viewer/app-config.js",
    ]  # fmt: skip


def test_hostile_text_is_escaped_on_every_page(hostile_world, admin, login_client):
    client = login_client(admin)
    shown = {}
    for url in pages(hostile_world):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert not RUNNABLE.search(body), (url, RUNNABLE.search(body))
        shown[url] = body.lower()
    upload = hostile_world["upload"].content.decode()
    assert not RUNNABLE.search(upload)
    # The hostile text is there, as text: the test looked at pages that show it.
    everything = "".join(shown.values()) + upload.lower()
    for escaped in ("&lt;script&gt;alert(1)", "&quot;&gt;&lt;img src=x onerror=alert(2)",
                    "&lt;svg onload=alert(3)", "&lt;img src=x onerror=alert(8)",
                    "&lt;svg onload=alert(30)", "&lt;img src=x onerror=alert(20)"):  # fmt: skip
        assert escaped in everything, escaped


def test_a_share_link_visitor_sees_no_hostile_markup(hostile_world):
    visitor = Client()
    landing = visitor.get(hostile_world["link"], follow=True)
    config = visitor.get("/viewer/app-config.js")

    assert landing.status_code == config.status_code == 200
    assert not RUNNABLE.search(b"".join(landing.streaming_content).decode())  # OHIF's page
    assert not RUNNABLE.search(config.content.decode())


def test_the_audit_export_runs_no_formula(admin, group_a, login_client):
    """A patient named like a formula, made through the form: no cell of the export starts
    with = + - @, a tab or a carriage return (OWASP's CSV injection advice)."""
    client = login_client(admin)
    client.post(
        "/patients/new/",
        {"external_id": "-2+3", "family_name": '=HYPERLINK("http://evil.example","x")',
         "given_name": "@SUM(A1)", "notes": "\r=1+1\n\t=2", "sex": "", "groups": [group_a.pk]},
    )  # fmt: skip
    patient = Patient.objects.get(external_id="-2+3")
    edit = client.post(f"/patients/{patient.pk}/edit/", {
        "external_id": "+33 1", "family_name": "=cmd|' /C calc'!A0", "given_name": "",
        "notes": "-1", "sex": "", "groups": [group_a.pk]})  # fmt: skip
    assert edit.status_code == 302, edit.content.decode()[-3000:]

    raw = b"".join(client.get("/audit/export.csv").streaming_content).decode("utf-8-sig")

    cells = [cell for row in csv.reader(io.StringIO(raw), delimiter=";") for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert '\'=HYPERLINK("HTTP://EVIL.EXAMPLE","X") @SUM(A1) (-2+3)' in cells  # as shown
    assert "'-2+3" in cells and "'+33 1" in cells
