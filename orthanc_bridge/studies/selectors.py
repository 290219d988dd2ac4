"""Reads of studies, from the study index (orthanc_bridge.index), for patients that
patients.access already authorized.

The index decides which series and studies of a patient may be shown: a series not in it is a
404, so an id in a URL is never passed to Orthanc unless Orthanc itself gave it for this patient.
No call here asks Orthanc, but ``study_patient_ids`` for a UID the index has not seen yet.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from orthanc_bridge.index.models import IndexedSeries, IndexedStudy
from orthanc_bridge.index.services import index_study_uid
from patients.models import Patient, search_fold
from web.errors import NotFound

# What Orthanc's resource IDs look like; anything else in a URL is no study or series of anyone.
ORTHANC_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{8}){4}")


def viewer_url(study_instance_uid: str) -> str:
    return f"/viewer/viewer?StudyInstanceUIDs={study_instance_uid}"


def _dashed(date: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date


def _series_summary(series: IndexedSeries) -> dict[str, Any]:
    return {
        "id": series.orthanc_id,
        "series_instance_uid": series.series_uid,
        "modality": series.modality,
        "description": series.description,
        "number": series.number,
        "instance_count": series.instance_count,
        "thumbnail_instance": series.thumbnail_instance,
    }


def _study_summary(study: IndexedStudy) -> dict[str, Any]:
    series = [_series_summary(s) for s in study.series.all()]
    series.sort(key=lambda s: (_as_int(s["number"]), s["description"]))
    return {
        "id": study.orthanc_id,
        "study_instance_uid": study.study_uid,
        "study_date": _dashed(study.study_date),
        "description": study.study_description,
        "accession_number": study.accession_number,
        "referring_physician": study.referring_physician.replace("^", " ").strip(),
        "modalities": study.modality_list,
        "series_count": study.series_count,
        "instance_count": study.instance_count,
        "series": series,
        "viewer_url": viewer_url(study.study_uid),
    }


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def study_list(*, patient: Patient) -> list[dict[str, Any]]:
    """The indexed studies whose PatientID is the patient's external ID, newest first."""
    studies = (
        IndexedStudy.objects.filter(dicom_patient_id=patient.external_id)
        .prefetch_related("series")
        .order_by("-study_date", "-study_time", "-id")
    )
    return [_study_summary(study) for study in studies]


def study_get(*, patient: Patient, study_id: str) -> dict[str, Any]:
    if not ORTHANC_ID.fullmatch(study_id):
        raise NotFound(_("No such study for this patient."))
    study = (
        IndexedStudy.objects.filter(dicom_patient_id=patient.external_id, orthanc_id=study_id)
        .prefetch_related("series")
        .first()
    )
    if study is None:
        raise NotFound(_("No such study for this patient."))
    return _study_summary(study)


def series_get(*, patient: Patient, series_id: str) -> dict[str, Any]:
    if not ORTHANC_ID.fullmatch(series_id):
        raise NotFound(_("No such series for this patient."))
    series = IndexedSeries.objects.filter(
        orthanc_id=series_id, study__dicom_patient_id=patient.external_id
    ).first()
    if series is None:
        raise NotFound(_("No such series for this patient."))
    return _series_summary(series)


def worklist(
    *,
    studies: QuerySet[IndexedStudy],
    q: str = "",
    first_day: date | None = None,
    last_day: date | None = None,
    modality: str = "",
    description: str = "",
    accession: str = "",
    referring: str = "",
) -> QuerySet[IndexedStudy]:
    """The worklist: ``studies`` (the user's, orthanc_bridge.access.visible_studies) narrowed by
    the filters, newest first. Names and descriptions match word by word in any order, case and
    accents ignored (trigram indexes); ``q`` is also an IPP (PatientID) prefix."""
    if q:
        words = search_fold(q).split()
        by_name = Q()
        for word in words:
            by_name &= Q(patient_name_fold__contains=word)
        studies = studies.filter(by_name | Q(dicom_patient_id__startswith=q.strip()))
    if first_day:
        studies = studies.filter(study_date__gte=first_day.strftime("%Y%m%d"))
    if last_day:
        studies = studies.filter(study_date__lte=last_day.strftime("%Y%m%d"), study_date__gt="")
    if modality:
        studies = studies.filter(modalities__contains=f" {modality} ")
    for word in search_fold(description).split():
        studies = studies.filter(study_description_fold__contains=word)
    for word in search_fold(referring).split():
        studies = studies.filter(referring_physician_fold__contains=word)
    if accession:
        studies = studies.filter(accession_number__startswith=accession.strip())
    return studies.select_related("patient").order_by("-study_date", "-study_time", "-id")


def worklist_row(study: IndexedStudy) -> dict[str, Any]:
    """What the worklist (page and API) shows of one study."""
    patient = study.patient
    return {
        "study_instance_uid": study.study_uid,
        "study_date": study.study_date,
        "study_time": study.study_time,
        "patient_id": study.patient_id,
        "patient_external_id": study.dicom_patient_id,
        "patient_name": patient.display_name if patient else study.patient_name,
        "modalities": study.modality_list,
        "description": study.study_description,
        "accession_number": study.accession_number,
        "referring_physician": study.referring_physician.replace("^", " ").strip(),
        "series_count": study.series_count,
        "instance_count": study.instance_count,
        "viewer_url": viewer_url(study.study_uid),
    }


def unassigned_studies() -> QuerySet[IndexedStudy]:
    """Studies whose PatientID no patient record has (for holders of "view all patients"), by
    PatientID; shown through unassigned_summary."""
    return IndexedStudy.objects.filter(patient__isnull=True).order_by(
        "dicom_patient_id", "study_date", "id"
    )


def unassigned_summary(study: IndexedStudy) -> dict[str, Any]:
    """What the page shows of an unassigned study, and what prefills a new patient record."""
    name = study.patient_name
    family, _sep, given = name.partition("^")
    birth = study.patient_birth_date
    return {
        "id": study.orthanc_id,
        "patient_id": study.dicom_patient_id,
        "patient_name": name.replace("^", " ").strip(),
        "family_name": family.strip(),
        "given_name": given.replace("^", " ").strip(),
        "birth_date": _dashed(birth) if len(birth) == 8 else "",
        "sex": study.patient_sex if study.patient_sex in {"M", "F", "O"} else "",
        "study_date": study.study_date,
        "description": study.study_description,
        "series_count": study.series_count,
    }


# --- Which patients hold a study --------------------------------------------------------------


def study_patient_ids(study_uid: str) -> frozenset[str]:
    """Every PatientID under which Orthanc holds a study with this StudyInstanceUID (empty if
    none): the index's rows, confirmed by one lookup in Orthanc (index_study_uid), so a copy
    stored a moment ago under another PatientID is counted before the follower brings it.
    A copy that cannot be indexed counts as an unknown patient ("").

    Orthanc keys studies by (PatientID, StudyInstanceUID), so a UID can exist under several
    patients: a modality sending a wrong PatientID, or an attempt to slip images into another
    patient's study. All copies count, never the first one.
    """
    rows, copies = index_study_uid(study_uid)
    patient_ids = {row.dicom_patient_id for row in rows}
    if copies > len(rows):
        patient_ids.add("")
    return frozenset(patient_ids)
