"""Orthanc's own QIDO answer for each indexed study, kept in the index (``qido_answer``).

A search page is then written from the index alone, and is still exactly what Orthanc answers
for those studies: the attributes are Orthanc's (even those it reads from a file, such as
SpecificCharacterSet or TimezoneOffsetFromUTC), and only RetrieveURL, which names the host the
client called, is written per request. Answers missing (a study read again, a rebuilt index) are
asked of Orthanc for exactly the studies of the page, one request, and kept; the follower fills
the rest in the background.
"""

from __future__ import annotations

from typing import Any

from orthanc_bridge.client import OrthancError, get_client
from orthanc_bridge.index.models import IndexedStudy

STUDY_UID, PATIENT_ID, RETRIEVE_URL = "0020000D", "00100020", "00081190"
FILL_BATCH = 100


def _value(item: dict, tag: str) -> str:
    values = item.get(tag, {}).get("Value") or [""]
    return str(values[0])


def fetch(
    rows: list[tuple[int, str, str, Any]], *, deadline: float | None = None
) -> dict[int, dict]:
    """Orthanc's answers for these rows (pk, StudyInstanceUID, PatientID, changed_at), asked in
    one request and kept in the index (unless the row changed meanwhile); by pk."""
    if not rows:
        return {}
    upstream = get_client().request(
        "GET",
        "/dicom-web/studies",
        params=[("StudyInstanceUID", ",".join(uid for _pk, uid, _pid, _at in rows))],
        headers={"Accept": "application/dicom+json", "Accept-Encoding": "identity"},
        deadline=deadline,
    )
    try:
        items = upstream.json()
    except ValueError as exc:
        raise OrthancError(f"Orthanc's QIDO answer is not JSON: {exc}") from exc
    finally:
        upstream.close()
    by_pair = {(_value(item, STUDY_UID), _value(item, PATIENT_ID)): item for item in items}
    found = {}
    for pk, uid, patient_id, changed_at in rows:
        item = by_pair.get((uid, patient_id))
        if item is None:
            continue  # deleted since it was indexed
        item.pop(RETRIEVE_URL, None)
        found[pk] = item
        # Not if the study was read again meanwhile: its answer may have changed too.
        IndexedStudy.objects.filter(pk=pk, changed_at=changed_at).update(qido_answer=item)
    return found


def fill_missing(limit: int = 1000) -> int:
    """Fetch up to ``limit`` missing answers (the follower's background work); how many."""
    rows = list(
        IndexedStudy.objects.filter(qido_answer__isnull=True)
        .order_by("-study_date", "-id")
        .values_list("pk", "study_uid", "dicom_patient_id", "changed_at")[:limit]
    )
    for start in range(0, len(rows), FILL_BATCH):
        fetch(rows[start : start + FILL_BATCH])
    return len(rows)


def with_retrieve_url(item: dict, base_url: str) -> dict:
    """The answer as the client must see it: RetrieveURL on the host it called."""
    uid = _value(item, STUDY_UID)
    url = {"vr": "UR", "Value": [f"{base_url}/dicom-web/studies/{uid}"]}
    return dict(sorted({**item, RETRIEVE_URL: url}.items()))  # in tag order, as Orthanc writes
