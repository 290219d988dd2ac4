"""Thumbnails of DICOMweb resources (``…/thumbnail`` at study, series and instance level), which
Orthanc's DICOMweb plugin 1.7 does not have: a small JPEG of a representative instance.

The caller has authorized the study (orthanc_bridge.access); every path asked of Orthanc is
under that study, built from UIDs that the grammar or Orthanc itself gave.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpResponse

from orthanc_bridge.client import get_client
from orthanc_bridge.dicom_checks import is_uid
from web.errors import NotFound

SIZE = "128,128"
REPRESENTATIVE_SECONDS = 600
SERIES_NUMBER, INSTANCE_NUMBER, SERIES_UID, SOP_UID = "00200011", "00200013", "0020000E", "00080018"


def thumbnail_response(path: str) -> HttpResponse:
    """The answer to ``/dicom-web/studies/S[/series/E[/instances/I]]/thumbnail``."""
    parts = path.split("/")
    uids = {parts[i]: parts[i + 1] for i in range(2, len(parts) - 2, 2)}
    image = thumbnail(
        study_uid=uids["studies"],
        series_uid=uids.get("series", ""),
        sop_uid=uids.get("instances", ""),
    )
    # Cache-Control: private, no-store (web.headers): patient pixels stay off shared disks.
    return HttpResponse(image, content_type="image/jpeg")


def thumbnail(*, study_uid: str, series_uid: str = "", sop_uid: str = "") -> bytes:
    """The JPEG thumbnail of the instance, or of a representative instance of the series (its
    middle one) or of the study (the middle one of its first series)."""
    if not series_uid:
        series_uid = _first_series(study_uid)
    if not sop_uid:
        sop_uid = _middle_instance(study_uid, series_uid)
    base = f"/dicom-web/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
    response = get_client().request(
        "GET", f"{base}/rendered", params=[("viewport", SIZE)], headers={"Accept": "image/jpeg"}
    )
    return response.content


def _first_series(study_uid: str) -> str:
    found = _cached_search(f"/dicom-web/studies/{study_uid}/series", SERIES_NUMBER, first=True)
    return _uid(found, SERIES_UID)


def _middle_instance(study_uid: str, series_uid: str) -> str:
    path = f"/dicom-web/studies/{study_uid}/series/{series_uid}/instances"
    return _uid(_cached_search(path, INSTANCE_NUMBER, first=False), SOP_UID)


def _cached_search(path: str, order_tag: str, *, first: bool) -> dict[str, Any]:
    key = f"dicomweb:thumbnail:{path}"
    chosen = cache.get(key)
    if chosen is None:
        items = get_client().get_json(path, headers={"Accept": "application/dicom+json"})
        if not items:
            raise NotFound()
        items.sort(key=lambda item: _number(item, order_tag))
        chosen = items[0] if first else items[len(items) // 2]
        cache.set(key, chosen, REPRESENTATIVE_SECONDS)
    return chosen


def _number(item: dict[str, Any], tag: str) -> float:
    try:
        return float((item.get(tag, {}).get("Value") or [0])[0])
    except (TypeError, ValueError):
        return 0.0


def _uid(item: dict[str, Any], tag: str) -> str:
    value = str((item.get(tag, {}).get("Value") or [""])[0])
    if not is_uid(value):
        raise NotFound()
    return value
