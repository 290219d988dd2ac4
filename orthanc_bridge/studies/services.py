"""What the image side writes besides images: the audit events of looking at them.

Callers have authorized the actor and the study (patients.access, orthanc_bridge.access).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

from audit.models import Action
from audit.services import audit_record
from orthanc_bridge.access import StudyOwner
from orthanc_bridge.index.models import IndexedStudy
from patients.models import Patient

VIEW_AUDIT_WINDOW_SECONDS = 600


def study_download_record(*, actor, patient: Patient, study: dict[str, Any]) -> None:
    """The audit event of a zip download (one per download)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=Action.STUDY_DOWNLOAD,
            object_type="study",
            object_id=study["study_instance_uid"],
            object_repr=study_label(study["study_instance_uid"]),
            patient=patient,
        )


def study_label(study_uid: str) -> str:
    """How an audit event names a study: its description and date as the index has them
    ("Scanner thoracique, 2025-03-10"), or its UID when the index does not know it."""
    study = IndexedStudy.objects.filter(study_uid=study_uid).first()
    if study is None:
        return study_uid
    day = study.study_date
    when = f"{day[:4]}-{day[4:6]}-{day[6:]}" if len(day) == 8 else ""
    return ", ".join(part for part in (study.study_description or "—", when) if part)


def images_viewed_record(
    *, user_id: int, load_user: Callable[[], Any], study_uid: str, owner: StudyOwner
) -> None:
    """One "images viewed" event per user, study and 10-minute window, not one per frame.

    The user row is loaded only when the event is written, so the frame requests of a viewer
    read nothing; ``owner`` is the patient the authorization found.
    """
    if not cache.add(f"audit:images-viewed:{user_id}:{study_uid}", 1, VIEW_AUDIT_WINDOW_SECONDS):
        return
    with transaction.atomic():
        audit_record(
            actor=load_user(),
            action=Action.IMAGES_VIEW,
            object_type="study",
            object_id=study_uid,
            object_repr=study_label(study_uid),
            patient=owner,
        )
