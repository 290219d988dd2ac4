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


def as_upload(instances) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(i.filename, i.content, "application/dicom") for i in instances]


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
