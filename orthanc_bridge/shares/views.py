"""Share links on the pages: making one (from the patient page and the worklist), the list of
links, revoking; and what a visitor without an account gets: ``/s/<token>`` opens the viewer
on the study, and the zip when the link allows it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import client_ip
from orthanc_bridge.dicom_checks import UID_MAX_LENGTH
from orthanc_bridge.shares import access, selectors, services
from orthanc_bridge.shares.forms import ShareForm
from orthanc_bridge.shares.visitors import visitor_cookie_add, visitor_shares
from orthanc_bridge.studies.archives import archive_response
from orthanc_bridge.studies.selectors import viewer_url
from patients.models import Patient
from web.errors import NotFound
from web.htmx import render_page
from web.lists import list_page


@require_GET
def share_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link itself: the viewer on its study, for anyone holding it, with no login."""
    share = access.share_for_token(token=token, client_address=client_ip(request))
    owner = access.share_owner(share)
    services.share_opened_record(
        share=share,
        owner=owner,
        address=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    response = redirect(viewer_url(share.study_uid))
    visitor_cookie_add(response, request, share)
    return response  # Cache-Control: private, no-store (web.headers), as every answer


@require_GET
def shared_study_archive(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The zip of a link's study, for the browser that opened the link, if the link allows it;
    the same 404 as an unknown link otherwise."""
    share = next((s for s in visitor_shares(request) if s.pk == pk and s.allow_download), None)
    if share is None:
        raise access.ShareLinkInvalid()
    owner = access.share_owner(share)
    study = selectors.shared_study(study_uid=share.study_uid, patient_id=share.patient_id)
    if study is None:
        raise access.ShareLinkInvalid()
    return archive_response(
        orthanc_study_id=study.orthanc_id,
        filename=f"{share.patient.external_id}-{study.study_date or 'study'}.zip",
        record=lambda: services.share_download_record(
            share=share,
            owner=owner,
            address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_new(request: HttpRequest, study_uid: str) -> HttpResponse:
    """Share one study: the form, then the link, shown once (only its hash is kept)."""
    if len(study_uid) > UID_MAX_LENGTH:
        raise NotFound()
    owner = access.study_for_sharing(user=request.user, study_uid=study_uid)
    patient = Patient.objects.get(pk=owner.pk)
    study = selectors.shared_study(study_uid=study_uid, patient_id=patient.pk)
    form = ShareForm(request.POST or None)
    context = {"form": form, "patient": patient, "study": study, "study_uid": study_uid}
    status = 200
    if request.method == "POST" and form.is_valid():
        share, token = services.share_create(
            actor=request.user, owner=owner, study_uid=study_uid, **form.cleaned_data
        )
        url = request.build_absolute_uri(reverse("orthanc_bridge:share-open", args=[token]))
        context |= {"share": share, "url": url}
        status = 201
    # The page that shows the token once: kept by no cache, as every answer (web.headers).
    return render_page(request, "orthanc_bridge/share_form.html", "share", context, status)


@login_required
@require_GET
def share_list_page(request: HttpRequest) -> HttpResponse:
    """The links the user may list (their own; all for readers of the audit trail)."""
    access.require_share_lister(user=request.user)
    links = selectors.share_list(user=request.user)
    status = request.GET.get("status", "active")
    if status == "active":
        links = links.active()
    page = list_page(request, links)
    return render_page(
        request, "orthanc_bridge/share_list.html", "share-table", {"page": page, "status": status}
    )


@login_required
@require_POST
def share_revoke_post(request: HttpRequest, pk: int) -> HttpResponse:
    share = access.share_for_revoking(user=request.user, pk=pk)
    services.share_revoke(actor=request.user, share=share)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    return redirect(back or "orthanc_bridge:share-list")
