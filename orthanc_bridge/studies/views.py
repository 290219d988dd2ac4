"""The studies of a patient page: the panel, series thumbnails, zip downloads; and the inbox of
studies that no patient record claims."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from orthanc_bridge.access import (
    require_image_viewer,
    require_unassigned_reader,
    study_for_viewing,
    visible_studies,
)
from orthanc_bridge.client import OrthancError, OrthancUnavailable, get_client
from orthanc_bridge.dicom_checks import UID_MAX_LENGTH
from orthanc_bridge.shares.selectors import study_links
from orthanc_bridge.studies import selectors, services
from orthanc_bridge.studies.archives import archive_response
from orthanc_bridge.studies.forms import WorklistFilterForm
from patients.access import patient_for_images
from web.errors import NotFound
from web.htmx import render_page
from web.lists import list_page

logger = logging.getLogger(__name__)

PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">'
    '<rect width="128" height="128" fill="#1d2733"/><text x="64" y="70" font-size="12" '
    'fill="#9fb3c8" text-anchor="middle" font-family="sans-serif">no preview</text></svg>'
)


@login_required
@require_GET
def patient_studies(request: HttpRequest, pk: int) -> HttpResponse:
    """The studies panel of a patient page, loaded by HTMX after the page itself."""
    patient = patient_for_images(user=request.user, pk=pk)
    context: dict[str, Any] = {"patient": patient, "studies": None, "unavailable": False}
    try:
        context["studies"] = selectors.study_list(patient=patient)
        links = study_links(user=request.user, patient=patient)
        for study in context["studies"]:
            study["share_links"] = links.get(study["study_instance_uid"], [])
        uids = [s["study_instance_uid"] for s in context["studies"]]
        context["all_studies_url"] = selectors.viewer_url(",".join(uids)) if len(uids) > 1 else ""
    except OrthancUnavailable as exc:
        logger.warning("Studies of patient %s: %s", patient.pk, exc)
        context["unavailable"] = True
    return render_page(request, "orthanc_bridge/studies.html", "studies-panel", context)


@login_required
@require_GET
def series_thumbnail(request: HttpRequest, pk: int, series_id: str) -> HttpResponse:
    patient = patient_for_images(user=request.user, pk=pk)
    try:
        series = selectors.series_get(patient=patient, series_id=series_id)
        content, content_type = get_client().instance_preview(series["thumbnail_instance"])
    except OrthancError as exc:
        # Orthanc down, or an image it cannot decode (JPEG 2000 without GDCM): a placeholder.
        logger.info("No preview for series %s: %s", series_id, exc)
        return HttpResponse(PLACEHOLDER_SVG, content_type="image/svg+xml")
    # Cache-Control: private, no-store (web.headers): patient pixels stay off shared disks.
    return HttpResponse(content, content_type=content_type)


@login_required
@require_GET
def study_archive(request: HttpRequest, pk: int, study_id: str) -> HttpResponseBase:
    """The study as a zip, streamed; Orthanc being down is the 503 page (web.errors)."""
    patient = patient_for_images(user=request.user, pk=pk)
    study = selectors.study_get(patient=patient, study_id=study_id)
    return archive_response(
        orthanc_study_id=study["id"],
        filename=f"{patient.external_id}-{study['study_date'] or 'study'}.zip",
        record=lambda: services.study_download_record(
            actor=request.user, patient=patient, study=study
        ),
    )


@login_required
@require_GET
def unassigned_studies(request: HttpRequest) -> HttpResponse:
    require_unassigned_reader(user=request.user)
    page = list_page(request, selectors.unassigned_studies())
    studies = [selectors.unassigned_summary(study) for study in page]
    return render(request, "orthanc_bridge/unassigned.html", {"page": page, "studies": studies})


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """The exams the user may see, newest first, filtered as the form says (bookmarkable: the
    filters are the query string; HTMX replaces the table and pushes the URL)."""
    require_image_viewer(user=request.user)
    form = WorklistFilterForm(request.GET)
    studies = visible_studies(user=request.user)
    if form.is_valid():
        studies = selectors.worklist(studies=studies, **form.filters())
    else:
        studies = studies.none()  # the errors are shown above the empty table
    page = list_page(request, studies, capped=True)
    context = {"form": form, "page": page, "rows": [selectors.worklist_row(s) for s in page]}
    return render_page(request, "orthanc_bridge/worklist.html", "worklist-table", context)


@login_required
@require_GET
def study_patient(request: HttpRequest, study_uid: str) -> HttpResponse:
    """From the viewer back to the patient page of a study (OHIF's logo link): the patient the
    study belongs to, if the user may see its images; 404/403/409 as for DICOMweb otherwise."""
    if len(study_uid) > UID_MAX_LENGTH:
        raise NotFound(_("No such study."))
    owner = study_for_viewing(user=request.user, study_uid=study_uid)
    return redirect("patients:detail", owner.pk)
