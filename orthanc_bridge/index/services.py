"""Writes to the study index (index.models), one study at a time, from what Orthanc says.

- ``index_study(orthanc_id)``: one study read again from Orthanc (two calls), or its rows
  dropped when Orthanc no longer has it; ``index_new`` for what an upload or STOW stored.
- ``index_study_uid(uid)``: the rows of one StudyInstanceUID brought in line with Orthanc (one
  lookup), for requests that name a study the follower has not brought yet.
- ``link_patient(patient)``: a patient record takes the studies indexed under its external ID.

Identifiers are never cut, and the writers of one StudyInstanceUID are serialized, so that a
UID held under several PatientIDs is always marked ``uid_shared`` (served to nobody).
The whole archive (the follower, rebuilds) is index.sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Subquery

from orthanc_bridge.client import OrthancNotFound, get_client
from orthanc_bridge.index.models import IndexedSeries, IndexedStudy
from patients.models import Patient, search_fold

logger = logging.getLogger(__name__)


# --- rows from what Orthanc says ---------------------------------------------------------------


def study_fields(study: dict[str, Any], series: list[dict[str, Any]]) -> dict[str, Any]:
    tags = study.get("MainDicomTags", {})
    patient = study.get("PatientMainDicomTags", {})
    modalities = sorted({s.get("MainDicomTags", {}).get("Modality", "") for s in series} - {""})
    name = patient.get("PatientName", "")
    referring = tags.get("ReferringPhysicianName", "")
    description = tags.get("StudyDescription", "")
    return {
        "orthanc_id": study["ID"],
        # Never cut: a cut value would equal another patient's. Rows whose identifiers do not fit
        # are not indexed at all (indexable): no patient record can match them anyway.
        "study_uid": tags.get("StudyInstanceUID", ""),
        "dicom_patient_id": patient.get("PatientID", ""),
        "patient_name": name[:324],
        "patient_birth_date": patient.get("PatientBirthDate", "")[:8],
        "patient_sex": patient.get("PatientSex", "")[:16],
        "study_date": tags.get("StudyDate", "")[:8],
        "study_time": tags.get("StudyTime", "")[:16],
        "accession_number": tags.get("AccessionNumber", "")[:64],
        "study_id": tags.get("StudyID", "")[:64],
        "study_description": description[:324],
        "referring_physician": referring[:324],
        "modalities": f" {' '.join(modalities)} " if modalities else "",
        "series_count": len(series),
        "instance_count": sum(len(s.get("Instances", [])) for s in series),
        "patient_name_fold": search_fold(name)[:324],
        "referring_physician_fold": search_fold(referring)[:324],
        "study_description_fold": search_fold(description)[:324],
    }


IDENTIFIER_MAX_LENGTH = 64  # UI and LO values in DICOM; the columns' length


def indexable(fields: dict[str, Any]) -> bool:
    return (
        0 < len(fields["study_uid"]) <= IDENTIFIER_MAX_LENGTH
        and len(fields["dicom_patient_id"]) <= IDENTIFIER_MAX_LENGTH
    )


def lock_uid(study_uid: str) -> None:
    """Serialize the writers of one StudyInstanceUID (inside their transaction), so two copies
    indexed at the same moment both see each other and are both marked shared. SQLite
    serializes every writer already (IMMEDIATE transactions)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [study_uid])


def series_row(study: IndexedStudy, series: dict[str, Any]) -> IndexedSeries:
    tags = series.get("MainDicomTags", {})
    instances = sorted(series.get("Instances", []))
    return IndexedSeries(
        study=study,
        orthanc_id=series["ID"],
        series_uid=tags.get("SeriesInstanceUID", "")[:64],
        modality=tags.get("Modality", "")[:16],
        description=tags.get("SeriesDescription", "")[:324],
        number=tags.get("SeriesNumber", "")[:16],
        instance_count=len(instances),
        # A middle instance makes the most telling preview of a volume.
        thumbnail_instance=instances[len(instances) // 2] if instances else "",
    )


def _patient_pk(dicom_patient_id: str) -> int | None:
    return Patient.objects.filter(external_id=dicom_patient_id).values_list("pk", flat=True).first()


# --- one study -------------------------------------------------------------------------------


def index_study(orthanc_id: str) -> IndexedStudy | None:
    """Read one study again from Orthanc into the index; None (and no row) if it is gone."""
    client = get_client()
    try:
        study = client.get_json(f"/studies/{orthanc_id}")
        series = client.study_series(orthanc_id)
    except OrthancNotFound:
        forget_studies([orthanc_id])
        return None
    fields = study_fields(study, series)
    if not indexable(fields):
        logger.warning("Study %s not indexed: its UID or PatientID is too long", orthanc_id)
        forget_studies([orthanc_id])
        return None
    fields["patient_id"] = _patient_pk(fields["dicom_patient_id"])
    fields["qido_answer"] = None  # Orthanc's answer may have changed with the study
    with transaction.atomic():
        lock_uid(fields["study_uid"])
        row, _created = IndexedStudy.objects.update_or_create(
            orthanc_id=orthanc_id, defaults=fields
        )
        row.series.all().delete()
        IndexedSeries.objects.bulk_create([series_row(row, s) for s in series])
        mark_shared_uids([row.study_uid])
    return row  # uid_shared as it was before the marking: read the rows again for it


def forget_studies(orthanc_ids: Iterable[str]) -> None:
    """Rows of studies Orthanc no longer has, dropped (their UIDs may be no longer shared)."""
    rows = IndexedStudy.objects.filter(orthanc_id__in=list(orthanc_ids))
    with transaction.atomic():
        uids = sorted(set(rows.values_list("study_uid", flat=True)))
        for uid in uids:
            lock_uid(uid)
        rows.delete()
        mark_shared_uids(uids)


def mark_shared_uids(study_uids: Iterable[str] | None = None) -> None:
    """``uid_shared`` set again for these UIDs (all of them when None)."""
    rows = IndexedStudy.objects.all()
    if study_uids is not None:
        rows = rows.filter(study_uid__in=list(study_uids))
    shared = (
        rows.values("study_uid")  # counted among these UIDs only, not the whole index
        .annotate(copies=Count("id"))
        .filter(copies__gt=1)
        .values("study_uid")
    )
    rows.filter(study_uid__in=Subquery(shared)).exclude(uid_shared=True).update(uid_shared=True)
    rows.exclude(study_uid__in=Subquery(shared)).exclude(uid_shared=False).update(uid_shared=False)


def index_new(stored_in: Iterable[tuple[str, str]]) -> None:
    """Index the studies of these (study, series) Orthanc IDs whose series the index lacks."""
    stored_in = set(stored_in)
    known = set(
        IndexedSeries.objects.filter(orthanc_id__in=[s for _study, s in stored_in]).values_list(
            "orthanc_id", flat=True
        )
    )
    index_studies({study for study, series in stored_in if series not in known})


def index_studies(orthanc_ids: Iterable[str]) -> None:
    for orthanc_id in sorted(set(orthanc_ids)):
        index_study(orthanc_id)


def index_study_uid(study_uid: str) -> tuple[list[IndexedStudy], int]:
    """The index's rows for this UID brought in line with Orthanc (one ``/tools/lookup``):
    copies the index lacks are read (stored a moment ago by a modality), copies Orthanc no
    longer has are dropped. Returns the rows and the number of copies Orthanc holds, which is
    more than the rows when a copy cannot be indexed (an identifier too long)."""
    found = get_client().request("POST", "/tools/lookup", data=study_uid).json()
    in_orthanc = {item["ID"] for item in found if item.get("Type") == "Study"}
    indexed = set(
        IndexedStudy.objects.filter(study_uid=study_uid).values_list("orthanc_id", flat=True)
    )
    index_studies(in_orthanc - indexed)
    if indexed - in_orthanc:
        forget_studies(indexed - in_orthanc)
    rows = list(IndexedStudy.objects.filter(study_uid=study_uid, orthanc_id__in=in_orthanc))
    return rows, len(in_orthanc)


def link_patient(patient: Patient) -> None:
    """A patient created or given another external ID takes the studies indexed under it."""
    IndexedStudy.objects.filter(patient=patient).exclude(
        dicom_patient_id=patient.external_id
    ).update(patient=None)
    IndexedStudy.objects.filter(dicom_patient_id=patient.external_id).update(patient=patient)
