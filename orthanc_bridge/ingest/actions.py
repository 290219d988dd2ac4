"""One audit event per upload the user made, however many batches the page sent it in.

``record_batch`` adds a batch's counts to its UploadAction and, with the last batch, writes the
one "DICOM uploaded" event (with the totals and the number of batches) and forgets the action.
``flush_stale`` writes the event of an action whose page stopped sending (closed, network
gone), or that has lasted more than MAX_AGE_SECONDS: every upload request and the index follower
call it, so nothing stored goes unrecorded for long.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from orthanc_bridge.ingest.models import UploadAction
from patients.models import Patient

STALE_SECONDS = 600  # ten times the longest batch (UPLOAD_BATCH_SECONDS)
# However it trickles, an upload is written to the trail within this time of its first batch.
MAX_AGE_SECONDS = 3600


def record_batch(
    *, actor, patient: Patient, upload_id: uuid.UUID, batches: int, counts: dict[str, int]
) -> None:
    with transaction.atomic():
        action, _ = UploadAction.objects.select_for_update().get_or_create(
            upload_id=upload_id,
            defaults={"actor": actor, "patient": patient, "batches_expected": batches},
        )
        if action.actor_id != actor.pk or action.patient_id != patient.pk:
            # Another user's or patient's id (a forged or reused one): never merged.
            _write(actor=actor, patient=patient, counts=counts, batches="1/1")
            return
        UploadAction.objects.filter(pk=action.pk).update(
            batches_done=F("batches_done") + 1,
            stored=F("stored") + counts["stored"],
            already_present=F("already_present") + counts["already_present"],
            rejected=F("rejected") + counts["rejected"],
            unknown=F("unknown") + counts.get("unknown", 0),
            updated_at=timezone.now(),
        )
        action.refresh_from_db()
        if action.batches_done >= action.batches_expected:
            _finish(action)


def flush_stale(*, older_than: float = STALE_SECONDS) -> int:
    """Write the events of the uploads nothing has come for since ``older_than`` seconds."""
    now = timezone.now()
    idle = Q(updated_at__lt=now - timedelta(seconds=older_than))
    too_old = Q(created_at__lt=now - timedelta(seconds=max(older_than, MAX_AGE_SECONDS)))
    done = 0
    with transaction.atomic():
        stale = UploadAction.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            idle | too_old
        )
        for action in stale.select_related("actor", "patient"):
            _finish(action)
            done += 1
    return done


def _finish(action: UploadAction) -> None:
    counts = {
        "stored": action.stored,
        "already_present": action.already_present,
        "rejected": action.rejected,
    }
    if action.unknown:
        counts["unknown"] = action.unknown
    batches = f"{action.batches_done}/{action.batches_expected}"
    _write(actor=action.actor, patient=action.patient, counts=counts, batches=batches)
    action.delete()


def _write(*, actor, patient: Patient | None, counts: dict[str, int], batches: str) -> None:
    audit_record(
        actor=actor,
        action=Action.DICOM_UPLOAD,
        obj=patient,
        patient=patient,
        changes={**counts, "batches": batches},
    )
