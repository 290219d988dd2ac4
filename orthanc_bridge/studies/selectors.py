"""Reads of studies from Orthanc, for patients that patients.access already authorized.

The patient's studies are cached per patient (Django's cache) for ORTHANC_STUDIES_CACHE_SECONDS;
an upload through the portal drops that patient's entry. The cached list is also what decides
which series and studies of a patient may be shown: a series not in it is a 404, so an id in a
URL is never passed to Orthanc unless Orthanc itself gave it for this patient.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from orthanc_bridge.client import get_client
from patients.models import Patient
from web.errors import NotFound


def _cache_key(patient: Patient) -> str:
    digest = hashlib.sha256(patient.external_id.encode()).hexdigest()[:32]
    return f"orthanc:studies:{digest}"


def studies_cache_forget(patient: Patient) -> None:
    cache.delete(_cache_key(patient))


def viewer_url(study_instance_uid: str) -> str:
    return f"/viewer/viewer?StudyInstanceUIDs={study_instance_uid}"


def _study_summary(study: dict[str, Any], series_list: list[dict[str, Any]]) -> dict[str, Any]:
    tags = study.get("MainDicomTags", {})
    series = []
    for item in series_list:
        series_tags = item.get("MainDicomTags", {})
        instances = item.get("Instances", [])
        series.append(
            {
                "id": item["ID"],
                "series_instance_uid": series_tags.get("SeriesInstanceUID", ""),
                "modality": series_tags.get("Modality", ""),
                "description": series_tags.get("SeriesDescription", ""),
                "number": series_tags.get("SeriesNumber", ""),
                "instance_count": len(instances),
                # A middle instance makes the most telling preview of a volume.
                "thumbnail_instance": sorted(instances)[len(instances) // 2] if instances else "",
            }
        )
    series.sort(key=lambda s: (_as_int(s["number"]), s["description"]))
    date = tags.get("StudyDate", "")
    return {
        "id": study["ID"],
        "study_instance_uid": tags.get("StudyInstanceUID", ""),
        "study_date": f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date,
        "description": tags.get("StudyDescription", ""),
        "accession_number": tags.get("AccessionNumber", ""),
        "referring_physician": tags.get("ReferringPhysicianName", "").replace("^", " ").strip(),
        "modalities": sorted({s["modality"] for s in series if s["modality"]}),
        "series_count": len(series),
        "instance_count": sum(s["instance_count"] for s in series),
        "series": series,
        "viewer_url": viewer_url(tags.get("StudyInstanceUID", "")),
    }


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def study_list(*, patient: Patient) -> list[dict[str, Any]]:
    """The studies in Orthanc whose PatientID is the patient's external ID, newest first.

    Raises OrthancUnavailable when Orthanc cannot answer and nothing is cached.
    """
    key = _cache_key(patient)
    studies = cache.get(key)
    if studies is not None:
        return studies
    client = get_client()
    found = client.find_studies({"PatientID": patient.external_id})
    # Orthanc reads * and ? in a query as wildcards: keep exact matches only.
    found = [
        s
        for s in found
        if s.get("PatientMainDicomTags", {}).get("PatientID") == patient.external_id
    ]
    studies = [_study_summary(study, client.study_series(study["ID"])) for study in found]
    studies.sort(key=lambda s: (s["study_date"], s["study_instance_uid"]), reverse=True)
    cache.set(key, studies, settings.ORTHANC_STUDIES_CACHE_SECONDS)
    return studies


def study_get(*, patient: Patient, study_id: str) -> dict[str, Any]:
    for study in study_list(patient=patient):
        if study["id"] == study_id:
            return study
    raise NotFound(_("No such study for this patient."))


def series_get(*, patient: Patient, series_id: str) -> dict[str, Any]:
    for study in study_list(patient=patient):
        for series in study["series"]:
            if series["id"] == series_id:
                return series
    raise NotFound(_("No such series for this patient."))


def unassigned_studies() -> list[dict[str, Any]]:
    """Studies whose PatientID no patient record has (for holders of "view all patients")."""
    client = get_client()
    studies = client.find_studies({})
    patient_ids = {s.get("PatientMainDicomTags", {}).get("PatientID", "") for s in studies}
    known = set(
        Patient.objects.filter(external_id__in=patient_ids).values_list("external_id", flat=True)
    )
    unassigned = []
    for study in studies:
        patient_tags = study.get("PatientMainDicomTags", {})
        if patient_tags.get("PatientID", "") in known:
            continue
        tags = study.get("MainDicomTags", {})
        name = patient_tags.get("PatientName", "")
        family, _, given = name.partition("^")
        birth = patient_tags.get("PatientBirthDate", "")
        unassigned.append(
            {
                "id": study["ID"],
                "patient_id": patient_tags.get("PatientID", ""),
                "patient_name": name.replace("^", " ").strip(),
                "family_name": family.strip(),
                "given_name": given.replace("^", " ").strip(),
                "birth_date": f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}" if len(birth) == 8 else "",
                "sex": patient_tags.get("PatientSex", "")
                if patient_tags.get("PatientSex") in {"M", "F", "O"}
                else "",
                "study_date": tags.get("StudyDate", ""),
                "description": tags.get("StudyDescription", ""),
                "series_count": len(study.get("Series", [])),
            }
        )
    unassigned.sort(key=lambda s: (s["patient_id"], s["study_date"]))
    return unassigned


# --- Which patients hold a study --------------------------------------------------------------


def study_patient_ids(study_uid: str) -> frozenset[str]:
    """Every PatientID under which Orthanc holds a study with this StudyInstanceUID (empty if
    none), cached for DICOMWEB_DECISION_SECONDS when there is one.

    Orthanc keys studies by (PatientID, StudyInstanceUID), so a UID can exist under several
    patients: a modality sending a wrong PatientID, or an attempt to slip images into another
    patient's study. All matches count, never the first one.
    """
    key = f"orthanc:study-patients:{study_uid}"
    cached = cache.get(key)
    if cached is not None:
        return frozenset(cached)
    patient_ids = frozenset(get_client().resource_patient_ids(study_uid, "Study"))
    if patient_ids:
        # Never "no such study": one stored a second later must be found at once.
        cache.set(key, sorted(patient_ids), settings.DICOMWEB_DECISION_SECONDS)
    return patient_ids
