"""The patient pages: list (search as you type, sortable), create, detail, edit, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import rights
from audit.selectors import patient_events
from patients import access, selectors, services
from patients.forms import PatientForm
from web.forms import form_page
from web.htmx import redirect_after_post, render_page
from web.lists import list_page


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "").strip()[:100]
    ordering = selectors.normalize_ordering(request.GET.get("ordering"))
    group = request.GET.get("group", "")
    patients = selectors.patient_list_for(
        user=request.user,
        search=search,
        ordering=ordering,
        group_id=int(group) if group.isascii() and group.isdigit() else None,
    )
    page = list_page(request, patients)
    # Exams are for those who may see images.
    sees_images = request.user.has_perm(rights.VIEW_IMAGES)
    exams = selectors.patient_exams_for(list(page)) if sees_images else {}
    context = {
        "page": page,
        "rows": [(patient, exams.get(patient.pk)) for patient in page],
        "search": search,
        "ordering": ordering,
        "group": group,
        "groups": selectors.group_choices_for(user=request.user),
    }
    return render_page(request, "patients/list.html", "patient-table", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    access.require_patient_add(user=request.user)
    # GET parameters pre-fill the form (the "create from this study" action of unassigned studies).
    initial = {
        field: request.GET[field]
        for field in ("external_id", "family_name", "given_name", "birth_date", "sex")
        if field in request.GET
    }
    form = PatientForm(request.POST or None, user=request.user, initial=initial)
    return form_page(
        request,
        form,
        save=lambda _data: services.patient_create(actor=request.user, **form.service_fields()),
        success=_saved(_("Patient %(name)s created.")),
        template="patients/form.html",
        context={"creating": True},
    )


@login_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = access.patient_for_view(user=request.user, pk=pk)
    context: dict[str, Any] = {"patient": patient}
    if request.user.has_perm(rights.VIEW_AUDIT_LOG):
        # Who viewed or changed this record, for those who read the audit trail.
        context["events"] = patient_events(patient_pk=patient.pk)
    return render(request, "patients/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = access.patient_for_change(user=request.user, pk=pk)
    form = PatientForm(request.POST or None, instance=patient, user=request.user)
    return form_page(
        request,
        form,
        save=lambda _data: services.patient_update(
            actor=request.user, patient=patient, **form.service_fields()
        ),
        success=_saved(_("Patient %(name)s saved.")),
        template="patients/form.html",
        context={"patient": patient},
    )


def _saved(message: str):
    def success(patient) -> tuple[str, str]:
        return message % {"name": patient}, reverse("patients:detail", args=[patient.pk])

    return success


@login_required
@require_POST
def patient_delete(request: HttpRequest, pk: int) -> HttpResponse:
    patient = access.patient_for_delete(user=request.user, pk=pk)
    if request.POST.get("confirm") != "yes":
        # The box is required in the page; this guards a form sent without it (no JavaScript).
        messages.error(request, _("Tick the confirmation box to delete the record."))
        return redirect_after_post(request, reverse("patients:detail", args=[patient.pk]))
    services.patient_delete(actor=request.user, patient=patient)
    messages.success(request, _("Patient %(name)s deleted.") % {"name": patient})
    return redirect_after_post(request, reverse("patients:list"))
