from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import rights
from patients import selectors, services
from patients.forms import PatientForm
from portal.forms import apply_validation_error
from portal.htmx import redirect_after_post, render_page

PAGE_SIZE = 25
COLUMNS = [
    ("external_id", "External ID"),
    ("family_name", "Name"),
    ("birth_date", "Birth date"),
    ("updated_at", "Updated"),
]


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "").strip()[:100]
    ordering = selectors.normalize_ordering(request.GET.get("ordering"))
    patients = selectors.patient_list_for(user=request.user, search=search, ordering=ordering)
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "ordering": ordering,
        "can_add": request.user.has_perm(rights.ADD_PATIENT),
    }
    return render_page(request, "patients/list.html", "patient-table", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(rights.ADD_PATIENT):
        raise PermissionDenied
    # GET parameters pre-fill the form (the "create from this study" action of unassigned studies).
    initial = {
        field: request.GET[field]
        for field in ("external_id", "family_name", "given_name", "birth_date", "sex")
        if field in request.GET
    }
    form = PatientForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(actor=request.user, **form.service_fields())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Patient %(name)s created.") % {"name": patient})
            return redirect_after_post(request, reverse("patients:detail", args=[patient.pk]))
    return render_page(request, "patients/form.html", "form", {"form": form, "creating": True})


@login_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = selectors.patient_get_for(user=request.user, pk=pk)
    user = request.user
    context = {
        "patient": patient,
        "can_change": user.has_perm(rights.CHANGE_PATIENT),
        "can_delete": user.has_perm(rights.DELETE_PATIENT),
        "can_view_images": user.has_perm(rights.VIEW_IMAGES),
        "can_upload": user.has_perm(rights.UPLOAD_DICOM),
    }
    return render(request, "patients/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = selectors.patient_get_for(user=request.user, pk=pk)
    if not request.user.has_perm(rights.CHANGE_PATIENT):
        raise PermissionDenied
    form = PatientForm(request.POST or None, instance=patient, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(actor=request.user, patient=patient, **form.service_fields())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Patient %(name)s saved.") % {"name": patient})
            return redirect_after_post(request, reverse("patients:detail", args=[patient.pk]))
    return render_page(request, "patients/form.html", "form", {"form": form, "patient": patient})


@login_required
@require_POST
def patient_delete(request: HttpRequest, pk: int) -> HttpResponse:
    patient = selectors.patient_get_for(user=request.user, pk=pk)
    if request.POST.get("confirm") != "yes":
        # The box is required in the page; this guards a form sent without it (no JavaScript).
        if not request.user.has_perm(rights.DELETE_PATIENT):
            raise PermissionDenied
        messages.error(request, _("Tick the confirmation box to delete the record."))
        return redirect_after_post(request, reverse("patients:detail", args=[patient.pk]))
    services.patient_delete(actor=request.user, patient=patient)
    messages.success(request, _("Patient %(name)s deleted.") % {"name": patient})
    return redirect_after_post(request, reverse("patients:list"))
