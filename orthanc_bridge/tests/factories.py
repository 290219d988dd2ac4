"""Rows of the study index as the follower writes them, for tests that need exams without
storing images in Orthanc."""

from __future__ import annotations

from typing import Any

import factory

from orthanc_bridge.index.models import IndexedStudy
from patients.models import search_fold

FOLDED = ("patient_name", "study_description", "referring_physician")


class IndexedStudyFactory(factory.django.DjangoModelFactory):
    """``IndexedStudyFactory(patient=p, study_date="20250310", ...)``: a study of ``p`` (its
    PatientID, a DICOM name from the record), with the folded search columns filled as the
    index fills them. ``patient=None, dicom_patient_id="X"`` makes a study no record claims."""

    class Meta:
        model = IndexedStudy

    patient = None
    orthanc_id = factory.Sequence(lambda n: f"{n:08d}-00000000-00000000-00000000-00000000")
    study_uid = factory.Sequence(lambda n: f"1.2.826.0.1.3680043.8.498.9{n}")
    dicom_patient_id = factory.LazyAttribute(lambda o: o.patient.external_id if o.patient else "")
    patient_name = factory.LazyAttribute(
        lambda o: f"{o.patient.family_name.upper()}^{o.patient.given_name}" if o.patient else ""
    )
    study_date = "20250310"
    study_time = "101500"
    modalities = " CT "
    series_count = 1
    instance_count = 3

    @classmethod
    def _create(cls, model_class: type[IndexedStudy], *args: Any, **kwargs: Any) -> IndexedStudy:
        for field in FOLDED:
            kwargs.setdefault(f"{field}_fold", search_fold(kwargs.get(field, "")))
        return super()._create(model_class, *args, **kwargs)
