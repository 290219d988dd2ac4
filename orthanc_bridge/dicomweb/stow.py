"""STOW-RS: the DICOMweb door of the ingest pipeline, and its DICOM JSON answer (PS3.18 10.5)."""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from audit.models import Action
from orthanc_bridge.access import require_image_uploader
from orthanc_bridge.dicom_checks import DicomIdentity, is_uid
from orthanc_bridge.ingest.checks import FAILURE_CANNOT_UNDERSTAND
from orthanc_bridge.ingest.pipeline import (
    STORED_OR_PRESENT,
    UNKNOWN,
    FileOutcome,
    IngestReport,
    ingest,
)
from orthanc_bridge.ingest.sources import (
    RequestInvalid,
    multipart_boundary,
    multipart_parts,
    spool_body,
)
from web.errors import BadRequest, UnsupportedMediaType


def stow(request: HttpRequest, user: Any, study_uid: str) -> HttpResponse:
    """Store the instances of a STOW-RS request; each is checked like an upload, and names its
    own patient, who must be one the user may upload to."""
    require_image_uploader(user=user)
    content_type = request.headers.get("Content-Type", "")
    try:
        multipart_boundary(content_type)
    except RequestInvalid as exc:
        raise UnsupportedMediaType(str(exc), code="invalid") from exc
    # The body is spooled first: the time a slow client takes to send it is not the time the
    # request may spend on Orthanc (UPLOAD_BATCH_SECONDS).
    try:
        body = spool_body(request, max_bytes=settings.UPLOAD_MAX_BODY_BYTES)  # type: ignore[arg-type]
    except ValueError as exc:
        raise BadRequest(str(exc), code="invalid_body") from exc
    with body:
        try:
            parts = multipart_parts(body, content_type)
            report = ingest(actor=user, parts=parts, action=Action.DICOM_STOW, study_uid=study_uid)
        except RequestInvalid as exc:  # no part at all
            raise BadRequest(str(exc), code="invalid") from exc
    base_url = f"{request.scheme}://{request.get_host()}/dicom-web"
    status = status_code(report)
    return HttpResponse(
        json.dumps(dicom_json(report, base_url=base_url, study_uid=study_uid)),
        status=status,
        content_type="application/dicom+json",
        # Nothing refused, nothing confirmed: the image server did not answer in time.
        headers={"Retry-After": str(math.ceil(settings.ORTHANC_PROBE_SECONDS))}
        if status == 503
        else None,
    )


def status_code(report: IngestReport) -> int:
    """200 all stored, 202 some; none: 400 when a part was not whole, readable DICOM (the
    request itself is bad, as Orthanc answers), 503 when no part was refused but none was
    confirmed either (sent, unanswered: a client retries, which is safe), else 409 (PS3.18
    10.5.3)."""
    failed = report.rejected + report.unknown
    if not failed:
        return 200
    if len(failed) < len(report.files):
        return 202
    if not report.rejected:
        return 503
    unreadable = any(f.failure == FAILURE_CANNOT_UNDERSTAND for f in report.rejected)
    return 400 if unreadable else 409


def dicom_json(report: IngestReport, *, base_url: str, study_uid: str) -> dict[str, Any]:
    """The Store Instances Response Module: the study's RetrieveURL (Type 2: empty when the
    request named no study and its instances span several), each stored instance with its own
    RetrieveURL, each refused one with its FailureReason."""

    def item(sop_class: str, sop_instance: str) -> dict[str, Any]:
        return {
            "00081150": {"vr": "UI", "Value": [sop_class]} if sop_class else {"vr": "UI"},
            "00081155": {"vr": "UI", "Value": [sop_instance]} if sop_instance else {"vr": "UI"},
        }

    kept = [
        f.identity for f in report.files if f.status in STORED_OR_PRESENT and f.identity is not None
    ]
    studies = {identity.study_uid for identity in kept} | (
        {study_uid} if is_uid(study_uid) else set()
    )
    study_url = f"{base_url}/studies/{next(iter(studies))}" if len(studies) == 1 else ""
    body: dict[str, Any] = {
        "00081190": {"vr": "UR", "Value": [study_url]} if study_url else {"vr": "UR"}
    }
    if kept:
        body["00081199"] = {
            "vr": "SQ",
            "Value": [
                {
                    **item(identity.sop_class_uid, identity.sop_instance_uid),
                    "00081190": {"vr": "UR", "Value": [_instance_url(base_url, identity)]},
                }
                for identity in kept
            ],
        }
    if failed := report.rejected + report.unknown:
        body["00081198"] = {
            "vr": "SQ",
            "Value": [
                {
                    **item(
                        f.identity.sop_class_uid if f.identity else "",
                        f.identity.sop_instance_uid if f.identity else "",
                    ),
                    "00081197": {"vr": "US", "Value": [f.failure]},
                    # Error Comment: the reason in words, for the people reading the answer (LO:
                    # 64 characters; an unknown outcome says first that retrying is safe).
                    "00000902": {"vr": "LO", "Value": [_comment(f)[:64]]},
                }
                for f in failed
            ],
        }
    return body


def _comment(outcome: FileOutcome) -> str:
    if outcome.status == UNKNOWN:
        return _("Unknown, maybe stored: sending it again is safe.")
    return outcome.reason


def _instance_url(base_url: str, identity: DicomIdentity) -> str:
    return (
        f"{base_url}/studies/{identity.study_uid}/series/{identity.series_uid}"
        f"/instances/{identity.sop_instance_uid}"
    )
