"""The upload fuzz corpus (corpus.py) through the doors of the one ingest pipeline.

Each bad file is refused with its reason, on the API's answer, on the results page and in
STOW-RS's answer; the good files of the same request are stored; and the real Orthanc holds
exactly the good files afterwards, nothing partial, nothing of a refused file.
"""

from __future__ import annotations

import io
import zipfile

import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.html import escape
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from audit.models import AuditEvent
from devtools.dicom_samples import ct_volume, demo_study
from orthanc_bridge.dicom_checks import MAX_FRAGMENT_READS, DicomRejected, inspect_dicom
from orthanc_bridge.ingest.sources import Part, Rejection, expand_zips
from orthanc_bridge.tests.corpus import Sample, one, upload_corpus, zip_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def corpus() -> list[Sample]:
    return upload_corpus("CARDIO-001")


def sent(corpus: list[Sample]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(s.name, s.content) for s in corpus if s.sent]


def outcome(files: list[dict], name: str) -> dict:
    """A file's line in the report; a name past 255 characters is cut (by Django or by the
    report), so it is found by its start."""
    found = [f for f in files if f["file"] == name] or [
        f for f in files if len(name) > 255 and f["file"].startswith(name[:40])
    ]
    assert len(found) == 1, (name, [f["file"] for f in files])
    return found[0]


def sop_uids_in(orthanc) -> set[str]:
    return {
        orthanc.get_json(f"/instances/{i}/simplified-tags")["SOPInstanceUID"]
        for i in orthanc.get_json("/instances")
    }


def test_every_bad_file_is_refused_with_its_reason_and_the_good_ones_are_stored(
    client, api_token, uploader, patient_a, orthanc, corpus
):
    response = client.post(
        f"/api/patients/{patient_a.pk}/dicom", {"files": sent(corpus)},
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}", HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip

    assert response.status_code == 200
    answer = response.json()
    reported = [s for s in corpus if s.reported]
    assert len(answer["files"]) == len(reported)
    for sample in reported:
        line = outcome(answer["files"], sample.name)
        if sample.stored:
            assert line["status"] == "stored", (sample.name, line)
        else:
            assert line["status"] == "rejected", (sample.name, line)
            assert sample.expect in line["reason"], (sample.name, line)
    assert all(len(f["file"]) <= 255 for f in answer["files"])
    good = {s.sop_uid for s in corpus if s.stored}
    assert answer["stored"] == len(good) == 8
    assert sop_uids_in(orthanc) == good  # nothing partial, nothing refused
    event = AuditEvent.objects.get(action="dicom.upload")
    assert event.changes == {"stored": 8, "already_present": 0, "rejected": len(reported) - 8}


def test_the_results_page_shows_every_reason(login_client, uploader, patient_a, orthanc, corpus):
    response = login_client(uploader).post(
        f"/patients/{patient_a.pk}/dicom/", {"files": sent(corpus)}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    page = response.content.decode()
    report = response.context["report"]
    refused = len(report.rejected)
    assert f"8 stored, 0 already present, {refused} rejected." in page
    for line in report.rejected:
        assert f"<td>{escape(line.file)}</td>" in page
        assert f"<td>{escape(line.reason)}</td>" in page
    assert sop_uids_in(orthanc) == {s.sop_uid for s in corpus if s.stored}


def test_stow_refuses_the_bad_parts_with_their_reasons_and_stores_the_good_one(
    client, api_token, uploader, patient_a, orthanc, corpus
):
    chosen = [s for s in corpus if s.sent and not s.name.endswith(".zip")]
    boundary = "fuzz-b0undary"
    body = (
        b"".join(
            f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
            + s.content
            + b"\r\n"
            for s in chosen
        )
        + f"--{boundary}--\r\n".encode()
    )

    response = client.generic(
        "POST", "/dicom-web/studies", body,
        content_type=f'multipart/related; type="application/dicom"; boundary={boundary}',
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}",
    )  # fmt: skip

    assert response.status_code == 202
    answer = response.json()
    good = {s.sop_uid for s in chosen if s.stored}
    referenced = {item["00081155"]["Value"][0] for item in answer["00081199"]["Value"]}
    failed = answer["00081198"]["Value"]
    assert referenced == good
    assert len(failed) == len(chosen) - len(good)
    assert all(item["00000902"]["Value"][0] for item in failed)  # each with its reason
    assert sop_uids_in(orthanc) == good


def test_a_zip_bomb_is_refused_before_a_byte_of_it_is_inflated(corpus, monkeypatch):
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(archive, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return original(archive, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    bomb = next(s for s in corpus if s.name == "bomb.zip")

    with translation.override("en"):
        (result,) = expand_zips([Part("bomb.zip", io.BytesIO(bomb.content))])

    assert isinstance(result, Rejection)
    assert "zip bomb" in result.reason
    assert opened == []


def test_a_zip_of_images_that_deflate_a_hundredfold_is_not_taken_for_a_bomb(
    client, api_token, uploader, patient_a, orthanc
):
    volume = ct_volume(patient_id="CARDIO-001", count=3, size=512)  # synthetic: ~95x
    body = zip_bytes({i.filename: i.content for i in volume})

    response = client.generic(
        "POST", f"/api/patients/{patient_a.pk}/dicom", body, content_type="application/zip",
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}",
    )  # fmt: skip

    assert response.json()["stored"] == 3


@pytest.mark.parametrize(
    ("patient_id", "indexed", "accepted"),
    [
        ("CARDIO-001 ", "CARDIO-001", True),  # trailing padding: dropped by Orthanc too
        ("CARDIO-001\x00", "CARDIO-001", True),
        (" CARDIO-001", " CARDIO-001", False),  # kept by Orthanc: another patient there
        ("CARDIO-001 \x00", "CARDIO-001 ", False),  # pydicom reads "CARDIO-001"
        ("\tCARDIO-001", "\tCARDIO-001", False),
        ("CARDIO-*", "CARDIO-*", True),  # a literal star for Orthanc's index
    ],
)
def test_the_check_reads_patient_ids_as_the_real_orthanc_indexes_them(
    orthanc, patient_id, indexed, accepted
):
    """Stored directly in Orthanc, as a modality's C-STORE would: what Orthanc indexes is the
    PatientID the check compares, or the check refuses the file."""
    content = one(patient_id).content
    stored = orthanc.store_instance(io.BytesIO(content))
    in_orthanc = orthanc.get_json(f"/instances/{stored['ID']}/patient")["MainDicomTags"]

    with translation.override("en"):
        try:
            checked = inspect_dicom(io.BytesIO(content)).patient_id
        except DicomRejected as refused:
            checked = None
            assert "spaces or control characters" in str(refused)

    assert in_orthanc["PatientID"] == indexed
    assert checked == (indexed if accepted else None)


def test_a_file_whose_patient_id_has_a_leading_space_is_refused_never_reported_stored(
    client, api_token, uploader, patient_a, orthanc
):
    leading = demo_study(patient_id=" CARDIO-001", ct_count=1, mr_count=0)

    answer = client.post(
        f"/api/patients/{patient_a.pk}/dicom",
        {"files": [SimpleUploadedFile("scan.dcm", leading[0].content)]},
        HTTP_AUTHORIZATION=f"Bearer {api_token(uploader)}", HTTP_ACCEPT_LANGUAGE="en",
    ).json()  # fmt: skip

    assert answer["stored"] == 0
    assert "“ CARDIO-001”" in answer["rejected"][0]["reason"]
    assert "“CARDIO-001”" in answer["rejected"][0]["reason"]
    assert orthanc.get_json("/instances") == []


def encapsulated(frames: list[bytes]) -> bytes:
    """A JPEG-encapsulated instance of the patient holding ``frames``."""
    dataset = pydicom.dcmread(io.BytesIO(one("CARDIO-001").content))
    dataset.PixelData = encapsulate(frames, has_bot=False)
    dataset["PixelData"].VR = "OB"
    dataset.NumberOfFrames = len(frames)
    dataset.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


def test_a_clip_of_sixty_thousand_frames_is_not_taken_for_a_forged_file():
    """The element bound counts elements, not the two reads per frame of encapsulated pixels."""
    clip = encapsulated([b"\xff\xd8" + bytes(28) + b"\xff\xd9"] * 60_000)

    assert inspect_dicom(io.BytesIO(clip)).patient_id == "CARDIO-001"


def test_millions_of_empty_frames_are_refused_as_a_forged_file():
    forged = encapsulated([b"\xff\xd9"] * (MAX_FRAGMENT_READS // 2 + 1))  # 10 MB of items

    with translation.override("en"), pytest.raises(DicomRejected, match="more than"):
        inspect_dicom(io.BytesIO(forged))


def test_a_dicom_file_whose_pixels_end_like_a_zip_is_read_as_dicom():
    """zipfile finds a zip by the end record in its last bytes; pixel data can hold one."""
    file = one("CARDIO-001").content + b"PK\x05\x06" + bytes(18)  # an empty zip's end record
    assert zipfile.is_zipfile(io.BytesIO(file))

    (part,) = expand_zips([Part("scan.dcm", io.BytesIO(file))])

    assert isinstance(part, Part) and part.name == "scan.dcm"
