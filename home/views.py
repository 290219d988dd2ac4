"""The dashboard every user lands on, and the health check for load balancers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import rights
from orthanc_bridge.access import visible_studies
from orthanc_bridge.client import OrthancError, get_client
from orthanc_bridge.studies import selectors as studies
from patients.selectors import patient_count_for, patient_latest_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    # patient_count_for and patient_latest_for see nothing for a user without a patient right.
    context = {
        "groups": user.groups.order_by("name"),
        "patient_count": patient_count_for(user=user),
        "latest_patients": patient_latest_for(user=user),
    }
    if user.has_perm(rights.VIEW_IMAGES):
        mine = visible_studies(user=user)
        today = timezone.localdate()
        context["exams_today"] = studies.worklist(
            studies=mine, first_day=today, last_day=today
        ).count()
        context["latest_exams"] = [
            studies.worklist_row(s) for s in studies.worklist(studies=mine)[:5]
        ]
    if user.has_perm(rights.VIEW_ALL_PATIENTS):
        context["unassigned_count"] = studies.unassigned_studies().count()
    return render(request, "home/dashboard.html", context)


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
