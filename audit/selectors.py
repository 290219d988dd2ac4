from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from audit.models import AuditEvent


def audit_event_list(
    *,
    actor_id: int | None = None,
    action: str = "",
    patient: str = "",
    record: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    nothing: bool = False,
) -> QuerySet[AuditEvent]:
    """Events, newest first, filtered, for a reader audit.access allowed.

    ``patient`` matches the patient's external id exactly or its portal id.
    """
    events = AuditEvent.objects.all()
    if nothing:
        return events.none()
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    patient = patient.strip()
    if patient:
        match = Q(patient_external_id=patient)
        if patient.isdigit():
            match |= Q(patient_id=int(patient))
        events = events.filter(match)
    if record is not None:
        events = events.filter(patient_id=record)
    if date_from is not None:
        events = events.filter(at__date__gte=date_from)
    if date_to is not None:
        events = events.filter(at__date__lte=date_to)
    return events.order_by("-at", "-id")


def patient_events(*, patient_pk: int, limit: int = 10) -> list[AuditEvent]:
    """The latest events about one patient record (who viewed or changed it), newest first."""
    return list(AuditEvent.objects.filter(patient_id=patient_pk).order_by("-at", "-id")[:limit])
