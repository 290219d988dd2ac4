"""Keeping the study index (index.models) in step with Orthanc.

- ``index_study(orthanc_id)``: one study read again from Orthanc (two calls), or its rows
  dropped when Orthanc no longer has it. Uploads and STOW through the portal call it at once.
- ``follow_once()``: what Orthanc's ``/changes`` feed says since the stored cursor (new, stable
  studies and series), applied. An Orthanc whose last change is behind the cursor was replaced
  or emptied: the index is rebuilt.
- ``reconcile()``: Orthanc 1.10 logs no change for a deletion (it even drops the deleted
  resources' earlier changes), so the follower compares the list of study IDs now and then.
- ``rebuild()``: the whole index from Orthanc's ``/tools/find``, a page at a time, replaced in
  one transaction (readers see the old index until then).

The worker is ``python manage.py orthanc_sync --follow`` (``--full`` rebuilds).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from orthanc_bridge.client import OrthancNotFound, get_client
from orthanc_bridge.index.models import IndexedSeries, IndexedStudy, SyncState
from patients.models import Patient, search_fold

logger = logging.getLogger(__name__)

FIND_PAGE = 1000
CHANGES_PAGE = 1000
# Changes that say a study or one of its series was added to or became complete.
STUDY_CHANGES = {"NewStudy", "StableStudy", "UpdatedAttachment", "UpdatedMetadata"}
SERIES_CHANGES = {"NewSeries", "StableSeries"}
FOLLOWED_AT_EVERY = datetime.timedelta(seconds=10)  # how fresh SyncState.followed_at is kept


# --- rows from what Orthanc says ---------------------------------------------------------------


def _study_fields(study: dict[str, Any], series: list[dict[str, Any]]) -> dict[str, Any]:
    tags = study.get("MainDicomTags", {})
    patient = study.get("PatientMainDicomTags", {})
    modalities = sorted({s.get("MainDicomTags", {}).get("Modality", "") for s in series} - {""})
    name = patient.get("PatientName", "")
    referring = tags.get("ReferringPhysicianName", "")
    description = tags.get("StudyDescription", "")
    return {
        "orthanc_id": study["ID"],
        # Never cut: a cut value would equal another patient's. Rows whose identifiers do not fit
        # are not indexed at all (_indexable): no patient record can match them anyway.
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


def _indexable(fields: dict[str, Any]) -> bool:
    return (
        0 < len(fields["study_uid"]) <= IDENTIFIER_MAX_LENGTH
        and len(fields["dicom_patient_id"]) <= IDENTIFIER_MAX_LENGTH
    )


def _lock_uid(study_uid: str) -> None:
    """Serialize the writers of one StudyInstanceUID (inside their transaction), so two copies
    indexed at the same moment both see each other and are both marked shared. SQLite
    serializes every writer already (IMMEDIATE transactions)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [study_uid])


def _series_row(study: IndexedStudy, series: dict[str, Any]) -> IndexedSeries:
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
    fields = _study_fields(study, series)
    if not _indexable(fields):
        logger.warning("Study %s not indexed: its UID or PatientID is too long", orthanc_id)
        forget_studies([orthanc_id])
        return None
    fields["patient_id"] = _patient_pk(fields["dicom_patient_id"])
    fields["qido_answer"] = None  # Orthanc's answer may have changed with the study
    with transaction.atomic():
        _lock_uid(fields["study_uid"])
        row, _created = IndexedStudy.objects.update_or_create(
            orthanc_id=orthanc_id, defaults=fields
        )
        row.series.all().delete()
        IndexedSeries.objects.bulk_create([_series_row(row, s) for s in series])
        mark_shared_uids([row.study_uid])
    row.refresh_from_db(fields=["uid_shared"])
    return row


def forget_studies(orthanc_ids: Iterable[str]) -> None:
    """Rows of studies Orthanc no longer has, dropped (their UIDs may be no longer shared)."""
    rows = IndexedStudy.objects.filter(orthanc_id__in=list(orthanc_ids))
    with transaction.atomic():
        uids = sorted(set(rows.values_list("study_uid", flat=True)))
        for uid in uids:
            _lock_uid(uid)
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


# --- the whole archive -----------------------------------------------------------------------


def _find_all(level: str) -> Iterator[dict[str, Any]]:
    client = get_client()
    since = 0
    while True:
        page = client.post_json(
            "/tools/find",
            {"Level": level, "Query": {}, "Expand": True, "Since": since, "Limit": FIND_PAGE},
        )
        yield from page
        if len(page) < FIND_PAGE:
            return
        since += FIND_PAGE


def _state(client=None) -> SyncState:
    client = client or get_client()
    state, _created = SyncState.objects.get_or_create(orthanc=client.base_url)
    return state


def last_change() -> int:
    return int(get_client().get_json("/changes", params=[("last", "")]).get("Last", 0))


def rebuild() -> int:
    """The index made anew from Orthanc; the number of studies. Changes made while it runs are
    applied by the next follow_once (the cursor is the last change before the reading)."""
    cursor = last_change()
    series_of: dict[str, list[dict[str, Any]]] = {}
    for series in _find_all("Series"):
        series_of.setdefault(series.get("ParentStudy", ""), []).append(series)
    studies = [(s, series_of.get(s["ID"], [])) for s in _find_all("Study")]
    studies = [(s, series) for s, series in studies if _indexable(_study_fields(s, series))]
    with transaction.atomic():
        IndexedSeries.objects.all().delete()
        IndexedStudy.objects.all().delete()
        rows = IndexedStudy.objects.bulk_create(
            [IndexedStudy(**_study_fields(s, series)) for s, series in studies], batch_size=2000
        )
        IndexedSeries.objects.bulk_create(
            [
                _series_row(row, s)
                for row, (_study, series) in zip(rows, studies, strict=True)
                for s in series
            ],
            batch_size=2000,
        )
        IndexedStudy.objects.update(
            patient=Subquery(
                Patient.objects.filter(external_id=OuterRef("dicom_patient_id")).values("pk")[:1]
            )
        )
        mark_shared_uids()
        state = _state()
        state.last_change = cursor
        state.rebuilt_at = timezone.now()
        state.save()
    _analyze()
    logger.info("Study index rebuilt: %d studies", len(rows))
    return len(rows)


def _analyze() -> None:
    """Fresh planner statistics after a bulk load: without them PostgreSQL plans searches for
    the empty table it last saw (nested loops over 20,000 rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {IndexedStudy._meta.db_table}, {IndexedSeries._meta.db_table}")


def reconcile() -> int:
    """Studies Orthanc no longer has are dropped, and ones it has that the index lacks are
    added; the number of rows changed."""
    # The index first: a study indexed after this read and listed by Orthanc is only read again,
    # never taken for a deleted one.
    indexed = set(IndexedStudy.objects.values_list("orthanc_id", flat=True))
    in_orthanc = set(get_client().get_json("/studies"))
    gone = indexed - in_orthanc
    if gone:
        forget_studies(gone)
    missing = in_orthanc - indexed
    index_studies(missing)
    return len(gone) + len(missing)


def follow_once() -> int:
    """Apply the changes since the stored cursor; the number of studies read again."""
    state = _state()
    last = last_change()
    if last < state.last_change or state.rebuilt_at is None:
        if state.rebuilt_at is not None:
            logger.warning(
                "Orthanc's last change (%d) is behind the index's cursor (%d): Orthanc was "
                "replaced or emptied; rebuilding the index",
                last,
                state.last_change,
            )
        return rebuild()
    client = get_client()
    read = 0
    since = state.last_change
    while since < last:
        page = client.get_json(
            "/changes", params=[("since", str(since)), ("limit", str(CHANGES_PAGE))]
        )
        touched: set[str] = set()
        for change in page.get("Changes", []):
            kind, resource = change.get("ChangeType"), change.get("ResourceType")
            if resource == "Study" and kind in STUDY_CHANGES:
                touched.add(change["ID"])
            elif resource == "Series" and kind in SERIES_CHANGES:
                touched.add(_parent_study(change["ID"]))
        touched.discard("")
        index_studies(touched)
        read += len(touched)
        reached = int(page.get("Last", since))
        if reached <= since:
            break  # nothing further (the changes of deleted resources are gone from the log)
        since = reached
        # Saved page by page: a long backlog is not read again after a restart.
        SyncState.objects.filter(pk=state.pk).update(last_change=since, followed_at=timezone.now())
        state.followed_at = timezone.now()
        if page.get("Done", True):
            break
    if state.followed_at is None or timezone.now() - state.followed_at > FOLLOWED_AT_EVERY:
        # Not on every idle round: on SQLite (make run) each write takes the database's lock.
        SyncState.objects.filter(pk=state.pk).update(followed_at=timezone.now())
    return read


def _parent_study(series_id: str) -> str:
    known = IndexedSeries.objects.filter(orthanc_id=series_id).values_list(
        "study__orthanc_id", flat=True
    )
    if parent := known.first():
        return parent
    try:
        return str(get_client().get_json(f"/series/{series_id}").get("ParentStudy", ""))
    except OrthancNotFound:
        return ""
