"""The page door of the ingest pipeline: files, folders or zips dropped on a patient page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.models import Action
from orthanc_bridge.client import OrthancUnavailable
from orthanc_bridge.ingest.actions import flush_stale
from orthanc_bridge.ingest.pipeline import ingest
from orthanc_bridge.ingest.sources import Part, expand_zips
from patients.access import patient_for_upload
from web.errors import wants_json


@login_required
@require_POST
def patient_dicom_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """JSON for the page's script (which sends batches of files), a results page without it."""
    patient = patient_for_upload(user=request.user, pk=pk)
    parts = [Part(f.name or "upload", f) for f in request.FILES.getlist("files")]
    if not parts and not wants_json(request):
        messages.error(request, _("Choose at least one file to upload."))
        return redirect("patients:detail", pk=patient.pk)
    flush_stale()  # uploads whose page stopped sending get their audit event now
    report = ingest(
        actor=request.user,
        parts=expand_zips(parts),
        action=Action.DICOM_UPLOAD,
        patient=patient,
        upload=_upload_action(request),
    )
    if wants_json(request):
        if report.orthanc_unavailable:
            # What was stored before Orthanc went away stays; the 503 says which files.
            raise OrthancUnavailable("upload interrupted", extra=report.as_dict())
        return JsonResponse(report.as_dict())
    return render(
        request, "orthanc_bridge/upload_result.html", {"patient": patient, "report": report}
    )


def _upload_action(request: HttpRequest) -> tuple[uuid.UUID, int] | None:
    """The page's upload this batch belongs to (``upload_id``, ``batches``), if it says so."""
    try:
        upload_id = uuid.UUID(request.POST.get("upload_id", ""))
        batches = int(request.POST.get("batches", ""))
    except ValueError:
        return None
    return (upload_id, batches) if 1 <= batches <= 100_000 else None
