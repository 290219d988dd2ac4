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

from pydicom.datadict import tag_for_keyword

from orthanc_bridge.client import OrthancError, get_client
from orthanc_bridge.index.models import IndexedStudy

STUDY_UID, PATIENT_ID, RETRIEVE_URL = "0020000D", "00100020", "00081190"
FILL_BATCH = 100
# What Orthanc 1.10 answers for a study when nothing more is asked...
DEFAULT_FIELDS = frozenset(
    {"00080005", "00080020", "00080030", "00080050", "00080061", "00080090", "00080201",
     RETRIEVE_URL, "00100010", PATIENT_ID, "00100030", "00100040", STUDY_UID, "00200010",
     "00201206", "00201208"}
)  # fmt: skip
# ...and what is kept besides: the includefields OHIF's study list asks for (StudyDescription,
# Modality), so the list it opens with is written from the index too.
EXTRA_FIELDS = ("00081030", "00080060")


def servable(includefields: list[str]) -> bool:
    """Whether a search asking for these fields can be answered from the kept answers."""
    return all(
        _tag(field) in DEFAULT_FIELDS or _tag(field) in EXTRA_FIELDS for field in includefields
    )


def _tag(field: str) -> str:
    """A tag in Orthanc's form (``00081030``) for a tag or a keyword; else the field itself."""
    if len(field) == 8 and all(c in "0123456789abcdefABCDEF" for c in field):
        return field.upper()
    tag = tag_for_keyword(field)
    return f"{tag:08X}" if tag is not None else field


def as_asked(item: dict, includefields: list[str]) -> dict:
    """A kept answer without the extra fields this search did not ask for."""
    asked = {_tag(field) for field in includefields}
    return {k: v for k, v in item.items() if k not in EXTRA_FIELDS or k in asked}


def value_of(item: dict, tag: str) -> str:
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
        params=[
            ("StudyInstanceUID", ",".join(uid for _pk, uid, _pid, _at in rows)),
            *[("includefield", field) for field in EXTRA_FIELDS],
        ],
        headers={"Accept": "application/dicom+json", "Accept-Encoding": "identity"},
        deadline=deadline,
    )
    items = qido_json(upstream)
    by_pair = {(value_of(item, STUDY_UID), value_of(item, PATIENT_ID)): item for item in items}
    found = {}
    for pk, uid, patient_id, changed_at in rows:
        item = by_pair.get((uid, patient_id))
        if item is None:
            # Deleted since it was indexed (reconcile drops the row): kept as "no answer" ({}),
            # so the follower does not ask again every round.
            IndexedStudy.objects.filter(pk=pk, changed_at=changed_at).update(qido_answer={})
            continue
        item.pop(RETRIEVE_URL, None)
        found[pk] = item
        # Not if the study was read again meanwhile: its answer may have changed too.
        IndexedStudy.objects.filter(pk=pk, changed_at=changed_at).update(qido_answer=item)
    return found


def qido_json(upstream: Any) -> list[dict]:
    """Orthanc's QIDO answer read (and the response closed); OrthancError if it is no JSON."""
    try:
        return upstream.json()
    except ValueError as exc:
        raise OrthancError(f"Orthanc's QIDO answer is not JSON: {exc}") from exc
    finally:
        upstream.close()


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
    uid = value_of(item, STUDY_UID)
    url = {"vr": "UR", "Value": [f"{base_url}/dicom-web/studies/{uid}"]}
    return dict(sorted({**item, RETRIEVE_URL: url}.items()))  # in tag order, as Orthanc writes
