"""The one ingest pipeline behind the three doors that store DICOM: the patient page, the API
(``POST /api/patients/{id}/dicom``) and STOW-RS.

``ingest`` takes parts (from the adapters in ``sources``), runs the one safety check on each
(``checks``), sends the accepted ones to Orthanc a few at a time, writes one audit event for the
request and returns one report, which each door renders (portal JSON, a results page, STOW's
DICOM JSON).

A rejected file never reaches Orthanc; accepted files of the same request are kept. If Orthanc
goes down or stops answering, or the request runs past UPLOAD_BATCH_SECONDS, the
files not sent are reported as not stored and the files already stored stay. A file sent whose
answer never came is "unknown", never "not stored": Orthanc may have stored it, or may store it
when it resumes; sending it again is safe (Orthanc recognises an instance it holds by its SOP
Instance UID and answers AlreadyStored).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import audit_record
from orthanc_bridge.client import (
    OrthancDeadline,
    OrthancError,
    OrthancRejected,
    OrthancUnavailable,
    deadline_in,
    get_client,
)
from orthanc_bridge.dicom_checks import DicomIdentity
from orthanc_bridge.index.services import index_new
from orthanc_bridge.ingest import actions
from orthanc_bridge.ingest.checks import (
    FAILURE_CANNOT_UNDERSTAND,
    FAILURE_PROCESSING,
    Refused,
    SafetyCheck,
    record_mismatch,
)
from orthanc_bridge.ingest.sources import Part, Rejection, file_size
from patients.models import Patient

logger = logging.getLogger(__name__)

STORED, ALREADY_PRESENT, REJECTED, PENDING = "stored", "already_present", "rejected", "pending"
UNKNOWN = "unknown"  # sent, unanswered: maybe stored
STORED_OR_PRESENT = (STORED, ALREADY_PRESENT)


@dataclass
class FileOutcome:
    file: str
    status: str
    reason: str = ""
    failure: int = 0
    identity: DicomIdentity | None = None
    warning: str = ""  # stored, but the file's patient name or birth date differ from the record
    orthanc_study: str = ""  # Orthanc's IDs of the study and series it was stored in
    orthanc_series: str = ""


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    orthanc_unavailable: bool = False

    def reject(
        self,
        name: str,
        reason: str,
        failure: int = FAILURE_CANNOT_UNDERSTAND,
        identity: DicomIdentity | None = None,
    ) -> None:
        self.files.append(FileOutcome(name, REJECTED, reason, failure, identity))

    @property
    def stored(self) -> int:
        return sum(f.status == STORED for f in self.files)

    @property
    def already_present(self) -> int:
        return sum(f.status == ALREADY_PRESENT for f in self.files)

    @property
    def stored_in(self) -> set[tuple[str, str]]:
        """Orthanc's (study, series) IDs that files were stored in (or already were)."""
        return {(f.orthanc_study, f.orthanc_series) for f in self.files if f.orthanc_study}

    @property
    def rejected(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == REJECTED]

    @property
    def unknown(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == UNKNOWN]

    def counts(self) -> dict[str, int]:
        """What the audit event records; ``unknown`` only when some file's fate is unknown."""
        counts = {"stored": self.stored, "already_present": self.already_present,
                  "rejected": len(self.rejected)}  # fmt: skip
        if self.unknown:
            counts["unknown"] = len(self.unknown)
        return counts

    def as_dict(self) -> dict[str, Any]:
        """The portal's JSON answer (page script and API)."""
        return {
            "stored": self.stored,
            "already_present": self.already_present,
            "rejected": [{"file": f.file, "reason": f.reason} for f in self.rejected],
            "unknown": [{"file": f.file, "reason": f.reason} for f in self.unknown],
            "files": [
                {"file": f.file, "status": f.status, "reason": f.reason, "warning": f.warning}
                for f in self.files
            ],
        }


class Sender:
    """Sends checked files to Orthanc, a few at a time, keeping the report in file order.

    Orthanc spends most of an instance's store time on its own disk and index; a few stores in
    flight keep it busy while the portal checks the next file. Files up to INLINE_MAX_BYTES are
    read into memory to be sent (at most ``concurrency * 2`` of them at once); larger ones are
    streamed from their file, one at a time.
    """

    INLINE_MAX_BYTES = 64 * 1024 * 1024

    def __init__(self, report: IngestReport, concurrency: int, deadline: float) -> None:
        self.report = report
        self.deadline = deadline
        self.concurrency = max(1, concurrency)
        self.pool = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix="orthanc-store"
        )
        self.pending: deque[tuple[int, Future]] = deque()

    def send(self, outcome: FileOutcome, fileobj: IO[bytes]) -> None:
        if not self._may_send(outcome):
            return
        index = len(self.report.files)
        self.report.files.append(outcome)
        store = partial(get_client().store_instance, deadline=self.deadline)
        if file_size(fileobj) <= self.INLINE_MAX_BYTES:
            content = fileobj.read()
            self.pending.append((index, self.pool.submit(store, content)))
            while len(self.pending) > self.concurrency * 2:
                self._collect_one()
        else:
            self.finish_pending()
            future: Future = Future()
            try:
                future.set_result(store(fileobj))
            except OrthancError as exc:
                future.set_exception(exc)
            self._record(index, future)

    def _may_send(self, outcome: FileOutcome) -> bool:
        if self.report.orthanc_unavailable:
            reason = _("Not sent: the image server became unavailable.")
        elif time.monotonic() >= self.deadline:
            reason = _took_too_long()
        else:
            return True
        outcome.status, outcome.reason, outcome.failure = REJECTED, reason, FAILURE_PROCESSING
        self.report.files.append(outcome)
        return False

    def _collect_one(self) -> None:
        index, future = self.pending.popleft()
        self._record(index, future)

    def _record(self, index: int, future: Future) -> None:
        outcome = self.report.files[index]
        try:
            answer = future.result()
        except (OrthancError, ValueError) as exc:
            outcome.failure = FAILURE_PROCESSING
            if isinstance(exc, ValueError) or (isinstance(exc, OrthancUnavailable) and exc.sent):
                outcome.status, outcome.reason = UNKNOWN, unconfirmed_because(exc, self.report)
            else:
                outcome.status, outcome.reason = REJECTED, not_stored_because(exc, self.report)
            return
        outcome.status = ALREADY_PRESENT if answer.get("Status") == "AlreadyStored" else STORED
        outcome.orthanc_study = str(answer.get("ParentStudy", ""))
        outcome.orthanc_series = str(answer.get("ParentSeries", ""))

    def finish_pending(self) -> None:
        while self.pending:
            self._collect_one()

    def close(self) -> None:
        self.finish_pending()
        self.pool.shutdown(wait=True)


def _took_too_long() -> str:
    return _("Not sent: the upload took longer than %(seconds)s s; send this file again.") % {
        "seconds": f"{settings.UPLOAD_BATCH_SECONDS:g}"
    }


def unconfirmed_because(error: Exception, report: IngestReport) -> str:
    """Why a file sent to Orthanc is neither stored nor not stored, and that sending it again
    is safe; a hung Orthanc stops the sending."""
    if isinstance(error, ValueError):
        return _(
            "Unknown: the image server's answer could not be read; it may be stored. "
            "Sending it again is safe (a file already stored is recognised)."
        )
    if isinstance(error, OrthancDeadline):
        return _(
            "Unknown: sent, but not confirmed within %(seconds)s s; it may be stored. "
            "Sending it again is safe (a file already stored is recognised)."
        ) % {"seconds": f"{settings.UPLOAD_BATCH_SECONDS:g}"}
    report.orthanc_unavailable = True
    return _(
        "Unknown: sent, but the image server stopped answering; it may be stored. "
        "Sending it again is safe (a file already stored is recognised)."
    )


def not_stored_because(error: Exception, report: IngestReport) -> str:
    """Why a file did not reach Orthanc, in words; an unavailable Orthanc stops the sending."""
    if isinstance(error, OrthancDeadline):
        return _took_too_long()
    if isinstance(error, OrthancUnavailable):
        report.orthanc_unavailable = True
        return _("Not stored: the image server is unavailable.")
    if isinstance(error, OrthancRejected):
        return _("The image server refused the file: %(error)s") % {"error": error.message}
    return str(error)


def ingest(
    *,
    actor,
    parts: Iterable[Part | Rejection],
    action: Action,
    patient: Patient | None = None,
    study_uid: str = "",
    upload: tuple[uuid.UUID, int] | None = None,
) -> IngestReport:
    """Check and store each part, one by one; never all in memory. A Rejection from an input
    adapter is reported as it is.

    ``patient``: the one patient every instance must belong to (page and API doors), already
    authorized for upload by patients.access. ``None``: each instance names its own patient,
    which must be one the actor may upload to (STOW-RS). ``study_uid``: the study every instance
    must belong to (STOW-RS to ``/studies/{uid}``). ``action``: the audit event written for the
    request, with the counts; ``upload``: (upload id, number of batches) when the request is one
    batch of a page upload, whose one event is written with its last batch (ingest.actions).
    """
    report = IngestReport()
    deadline = deadline_in(settings.UPLOAD_BATCH_SECONDS)
    check = SafetyCheck(actor=actor, patient=patient, study_uid=study_uid, deadline=deadline)
    sender = Sender(report, settings.UPLOAD_ORTHANC_CONCURRENCY, deadline)
    touched: dict[int, Patient] = {}
    try:
        for part in parts:
            if isinstance(part, Rejection):
                report.reject(part.name, part.reason)
                continue
            if time.monotonic() >= deadline:  # checking costs time too: none is left
                report.reject(part.name, _took_too_long(), FAILURE_PROCESSING)
                continue
            part.file.seek(0)
            try:
                identity, owner = check(part)
            except Refused as exc:
                report.reject(part.name, str(exc), exc.failure, exc.identity)
                continue
            except OrthancError as exc:
                report.reject(part.name, not_stored_because(exc, report), FAILURE_PROCESSING)
                continue
            touched[owner.pk] = owner
            warning = record_mismatch(identity, owner)
            sender.send(
                FileOutcome(part.name, PENDING, identity=identity, warning=warning), part.file
            )
    finally:
        sender.close()
        _index(report)
        if upload is not None and patient is not None:
            actions.record_batch(actor=actor, patient=patient, upload_id=upload[0],
                                 batches=upload[1], counts=report.counts())  # fmt: skip
        else:
            _audit(actor=actor, action=action, report=report, patients=list(touched.values()),
                   study_uid=study_uid, patient=patient)  # fmt: skip
    return report


def _index(report: IngestReport) -> None:
    """New studies and series are in the index before the answer goes out (the follower would
    bring them within a second; a user who uploads looks at once). More instances in a series
    already indexed are counted by the follower (Orthanc's StableSeries/StableStudy)."""
    try:
        index_new(report.stored_in)
    except OrthancError as exc:  # stored all the same: the follower indexes them later
        logger.warning("Stored studies not indexed at once: %s", exc)


def _audit(
    *, actor, action: Action, report: IngestReport, patients: list[Patient], study_uid: str,
    patient: Patient | None,
) -> None:  # fmt: skip
    """One event for the request: the patient it was for (or the one its instances named)."""
    subject = patient or (patients[0] if len(patients) == 1 else None)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action,
            obj=subject,
            object_type="" if subject else "study",
            object_id="" if subject else study_uid,
            object_repr="" if subject else (study_uid or "STOW-RS"),
            patient=subject,
            changes=report.counts(),
        )
