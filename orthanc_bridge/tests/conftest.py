from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from devtools.dicom_samples import demo_study
from patients.tests.factories import PatientFactory


@pytest.fixture
def patient_a(group_a):
    return PatientFactory(external_id="CARDIO-001", family_name="Durand", groups=[group_a])


@pytest.fixture
def uploader(group_a):
    """A member of group A who may upload DICOM."""
    from accounts import rights
    from accounts.tests.factories import GroupFactory, UserFactory

    uploaders = GroupFactory(name="Manipulateurs", rights=[rights.UPLOAD_DICOM])
    return UserFactory(email="manip@hopital.example", name="Manip", groups=[group_a, uploaders])


@pytest.fixture
def study_a():
    return demo_study(patient_id="CARDIO-001", ct_count=3, mr_count=2)


@pytest.fixture
def indexed_study_a(patient_a):
    """A study of patient A as the index holds it (as the follower wrote it), with Orthanc
    nowhere: what the portal shows while Orthanc is down."""
    from orthanc_bridge.index.models import IndexedSeries
    from orthanc_bridge.tests.factories import IndexedStudyFactory

    study = IndexedStudyFactory(
        orthanc_id="0a0a0a0a-1b1b1b1b-2c2c2c2c-3d3d3d3d-4e4e4e4e",
        study_uid="1.2.826.0.1.3680043.8.498.1",
        patient=patient_a,
        patient_name="DURAND^Anne",
        study_date="20250102",
        study_time="",
        study_description="Cardiac CT",
    )
    IndexedSeries.objects.create(
        study=study,
        orthanc_id="5f5f5f5f-6a6a6a6a-7b7b7b7b-8c8c8c8c-9d9d9d9d",
        series_uid="1.2.826.0.1.3680043.8.498.1.1",
        modality="CT",
        description="Axial",
        instance_count=3,
        thumbnail_instance="aaaaaaaa-bbbbbbbb-cccccccc-dddddddd-eeeeeeee",
    )
    return study


def as_upload(instances) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(i.filename, i.content, "application/dicom") for i in instances]


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
