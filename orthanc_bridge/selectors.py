"""Reads from Orthanc, always through the patients' visibility rule.

The patient's studies are cached per patient (Django's cache) for ORTHANC_STUDIES_CACHE_SECONDS;
an upload through the portal drops that patient's entry. The cached list is also what decides
which series and studies of a patient may be shown: a series not in it is a 404.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts import rights
from orthanc_bridge.client import get_client
from patients.models import Patient
from patients.selectors import visible_external_ids_for


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


def study_list_for(*, user, patient: Patient) -> list[dict[str, Any]]:
    """The studies in Orthanc whose PatientID is the patient's external ID, newest first.

    ``patient`` must come from a patients selector (visible to ``user``). Raises
    OrthancUnavailable when Orthanc cannot answer and nothing is cached.
    """
    if not user.has_perm(rights.VIEW_IMAGES):
        raise PermissionDenied
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


def study_get_for(*, user, patient: Patient, study_id: str) -> dict[str, Any]:
    for study in study_list_for(user=user, patient=patient):
        if study["id"] == study_id:
            return study
    raise Http404("No such study for this patient.")


def series_get_for(*, user, patient: Patient, series_id: str) -> dict[str, Any]:
    for study in study_list_for(user=user, patient=patient):
        for series in study["series"]:
            if series["id"] == series_id:
                return series
    raise Http404("No such series for this patient.")


def unassigned_studies_for(*, user) -> list[dict[str, Any]]:
    """Studies whose PatientID no patient record has (for holders of "view all patients")."""
    if not user.has_perm(rights.VIEW_ALL_PATIENTS):
        raise PermissionDenied
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


# --- DICOMweb authorization -------------------------------------------------------------------


def visible_dicom_patient_ids_for(*, user, patient_ids: list[str]) -> set[str]:
    """Which DICOM PatientIDs are external IDs of patients the user sees (QIDO filter)."""
    return visible_external_ids_for(user=user, external_ids=[p for p in patient_ids if p])


def study_patient_ids(study_uid: str) -> frozenset[str]:
    """Every PatientID under which Orthanc holds a study with this StudyInstanceUID (empty if
    none), cached for DICOMWEB_DECISION_SECONDS.

    Orthanc keys studies by (PatientID, StudyInstanceUID), so a UID can exist under several
    patients: a modality sending a wrong PatientID, or an attempt to slip images into another
    patient's study. All matches count, never the first one.
    """
    key = f"orthanc:study-patients:{study_uid}"
    cached = cache.get(key)
    if cached is not None:
        return frozenset(cached)
    patient_ids = frozenset(get_client().resource_patient_ids(study_uid, "Study"))
    cache.set(key, sorted(patient_ids), settings.DICOMWEB_DECISION_SECONDS)
    return patient_ids


VISIBLE, HIDDEN, CONFLICT = "visible", "hidden", "conflict"


def study_visibility_for(*, user, study_uid: str) -> tuple[str, str]:
    """May this user see this study: (VISIBLE, its PatientID), (HIDDEN, "") when no patient
    the user sees holds it, or (CONFLICT, "") when the user sees one of several patients that
    hold the same StudyInstanceUID: such a study is served to nobody, never mixed."""
    patient_ids = study_patient_ids(study_uid)
    visible = visible_external_ids_for(user=user, external_ids=[p for p in patient_ids if p])
    if not visible:
        return HIDDEN, ""
    if len(patient_ids) > 1:
        return CONFLICT, ""
    return VISIBLE, next(iter(visible))
