from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import rights
from orthanc_bridge.client import OrthancError, get_client
from patients.selectors import patient_count_for, patient_latest_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_view_patients = user.has_perm(rights.VIEW_ALL_PATIENTS) or user.has_perm(
        rights.VIEW_GROUP_PATIENTS
    )
    context = {
        "groups": user.groups.order_by("name"),
        "can_view_patients": can_view_patients,
        "patient_count": patient_count_for(user=user) if can_view_patients else 0,
        "latest_patients": patient_latest_for(user=user) if can_view_patients else [],
        "can_add_patient": user.has_perm(rights.ADD_PATIENT),
        "can_manage_users": user.has_perm(rights.MANAGE_USERS),
        "can_view_audit": user.has_perm(rights.VIEW_AUDIT_LOG),
    }
    return render(request, "portal/dashboard.html", context)


def _database_ok() -> bool:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        # Drop the broken connection so the next request reconnects instead of failing again.
        connection.close_if_unusable_or_obsolete()
        return False


def _orthanc_ok() -> bool:
    # The probe also tells the Orthanc client whether to fail fast (see orthanc_bridge.client).
    try:
        get_client().probe(timeout=2.0)
    except OrthancError:
        return False
    return True


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and dependencies, for load balancers and `make run`'s wait loop.

    The database connect timeout (DB_CONNECT_TIMEOUT) and a 2 s Orthanc timeout bound how long
    this takes.
    """
    database_ok = _database_ok()
    orthanc_ok = _orthanc_ok()
    body = {
        "status": "ok" if database_ok and orthanc_ok else "degraded",
        "database": "ok" if database_ok else "unavailable",
        "orthanc": "ok" if orthanc_ok else "unavailable",
    }
    return JsonResponse(body, status=200 if database_ok and orthanc_ok else 503)


# --- Error pages: JSON under /api/, HTML elsewhere ---------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/dicom-web/")


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": message, "code": code}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("You do not have the right to do this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", _("This page does not exist."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request, 500, "server_error", _("Something went wrong on our side. Please try again.")
    )
