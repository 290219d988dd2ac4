"""Keeping the whole study index (index.models) in step with Orthanc; one study at a time is
index.services.

- ``follow_once()``: what Orthanc's ``/changes`` feed says since the stored cursor (new, stable
  studies and series), applied page by page. An Orthanc whose last change is behind the cursor
  was replaced or emptied: the index is rebuilt.
- ``reconcile()``: Orthanc 1.10 logs no change for a deletion (it even drops the deleted
  resources' earlier changes), so the follower compares the list of study IDs now and then.
- ``rebuild()``: the whole index from Orthanc's ``/tools/find``, a page at a time, replaced in
  one transaction (readers see the old index until then).

The worker is ``python manage.py orthanc_sync --follow`` (``--full`` rebuilds).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from orthanc_bridge.client import OrthancNotFound, get_client
from orthanc_bridge.index.models import IndexedSeries, IndexedStudy, SyncState
from orthanc_bridge.index.services import (
    forget_studies,
    index_studies,
    indexable,
    mark_shared_uids,
    series_row,
    study_fields,
)
from patients.models import Patient

logger = logging.getLogger(__name__)

FIND_PAGE = 1000
CHANGES_PAGE = 1000
# Changes that say a study or one of its series was added to or became complete.
STUDY_CHANGES = {"NewStudy", "StableStudy", "UpdatedAttachment", "UpdatedMetadata"}
SERIES_CHANGES = {"NewSeries", "StableSeries"}
FOLLOWED_AT_EVERY = datetime.timedelta(seconds=10)  # how fresh SyncState.followed_at is kept


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
    studies = [(s, series) for s, series in studies if indexable(study_fields(s, series))]
    with transaction.atomic():
        IndexedSeries.objects.all().delete()
        IndexedStudy.objects.all().delete()
        rows = IndexedStudy.objects.bulk_create(
            [IndexedStudy(**study_fields(s, series)) for s, series in studies], batch_size=2000
        )
        IndexedSeries.objects.bulk_create(
            [
                series_row(row, s)
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
