"""Writes to Orthanc: DICOM upload with the patient safety check."""

from __future__ import annotations

import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import rights
from audit.models import Action
from audit.services import audit_record
from orthanc_bridge.client import (
    OrthancError,
    OrthancRejected,
    OrthancUnavailable,
    deadline_in,
    get_client,
)
from orthanc_bridge.dicom_checks import (
    DicomIdentity,
    DicomRejected,
    check_dicom_for_patient,
    inspect_dicom,
)
from orthanc_bridge.selectors import studies_cache_forget, study_patient_ids
from patients.models import Patient
from patients.selectors import patient_visible_queryset

STORED, ALREADY_PRESENT, REJECTED = "stored", "already_present", "rejected"
# Entries extracted from a zip stay in memory up to this size, then spill to disk.
SPOOL_MAX_MEMORY = 8 * 1024 * 1024
COPY_CHUNK = 1024 * 1024


@dataclass
class FileResult:
    file: str
    status: str
    reason: str = ""


@dataclass
class UploadReport:
    files: list[FileResult] = field(default_factory=list)
    orthanc_unavailable: bool = False

    def add(self, name: str, status: str, reason: str = "") -> None:
        self.files.append(FileResult(name, status, reason))

    @property
    def stored(self) -> int:
        return sum(f.status == STORED for f in self.files)

    @property
    def already_present(self) -> int:
        return sum(f.status == ALREADY_PRESENT for f in self.files)

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.status == REJECTED]

    def as_dict(self) -> dict:
        return {
            "stored": self.stored,
            "already_present": self.already_present,
            "rejected": [{"file": f.file, "reason": f.reason} for f in self.rejected],
            "files": [{"file": f.file, "status": f.status, "reason": f.reason} for f in self.files],
        }


def _unsafe_zip_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts


@contextmanager
def _spooled() -> Iterator[IO[bytes]]:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115
    try:
        yield spool
    finally:
        spool.close()


def _zip_entries(
    name: str, fileobj: IO[bytes], report: UploadReport
) -> Iterator[tuple[str, IO[bytes]]]:
    """Safe entries of a zip, each as its own spooled file; unsafe ones go to the report."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError) as exc:
        report.add(name, REJECTED, _("Unreadable zip file: %(error)s") % {"error": exc})
        return
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        limit = settings.UPLOAD_ZIP_MAX_EXPANDED_BYTES
        declared = sum(info.file_size for info in entries)
        if declared > limit or len(entries) > settings.UPLOAD_ZIP_MAX_ENTRIES:
            report.add(
                name,
                REJECTED,
                _(
                    "The zip expands to %(size)s bytes in %(count)s files, past the limit of "
                    "%(limit)s bytes and %(max_count)s files; nothing in it was stored."
                )
                % {
                    "size": declared,
                    "count": len(entries),
                    "limit": limit,
                    "max_count": settings.UPLOAD_ZIP_MAX_ENTRIES,
                },
            )
            return
        for info in entries:
            entry_name = f"{name}/{info.filename}"
            if _unsafe_zip_name(info.filename):
                report.add(entry_name, REJECTED, _("Unsafe path in the zip (absolute or with ..)."))
                continue
            with _spooled() as spool:
                try:
                    with archive.open(info) as source:
                        copied = 0
                        while chunk := source.read(COPY_CHUNK):
                            copied += len(chunk)
                            # The sizes in a zip's directory can lie; the real bytes count.
                            if copied > info.file_size or copied > limit:
                                raise zipfile.BadZipFile("entry larger than declared")
                            spool.write(chunk)
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                    report.add(
                        entry_name, REJECTED, _("Unreadable zip entry: %(error)s") % {"error": exc}
                    )
                    continue
                spool.seek(0)
                yield entry_name, spool


def _size(fileobj: IO[bytes]) -> int:
    position = fileobj.tell()
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(position)
    return size


class _OrthancSender:
    """Sends checked files to Orthanc, a few at a time, keeping the report in file order.

    Orthanc spends most of an instance's store time on its own disk and index; a few stores in
    flight keep it busy while the portal checks the next file. Files up to INLINE_MAX_BYTES are
    read into memory to be sent (at most ``concurrency * 2`` of them at once); larger ones are
    streamed from their file, one at a time.
    """

    INLINE_MAX_BYTES = 64 * 1024 * 1024

    def __init__(self, report: UploadReport, concurrency: int, deadline: float) -> None:
        self.report = report
        self.deadline = deadline
        self.concurrency = max(1, concurrency)
        self.pool = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix="orthanc-store"
        )
        self.pending: deque[tuple[int, Future]] = deque()

    def send(self, name: str, fileobj: IO[bytes]) -> None:
        if self.report.orthanc_unavailable:
            self.report.add(name, REJECTED, _("Not sent: the image server became unavailable."))
            return
        if time.monotonic() >= self.deadline:
            self.report.orthanc_unavailable = True
            self.report.add(
                name,
                REJECTED,
                _("Not sent: the upload took longer than %(seconds)s s; send this file again.")
                % {"seconds": f"{settings.UPLOAD_BATCH_SECONDS:g}"},
            )
            return
        index = len(self.report.files)
        self.report.add(name, "pending")
        store = partial(get_client().store_instance, deadline=self.deadline)
        if _size(fileobj) <= self.INLINE_MAX_BYTES:
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

    def _collect_one(self) -> None:
        index, future = self.pending.popleft()
        self._record(index, future)

    def _record(self, index: int, future: Future) -> None:
        result = self.report.files[index]
        try:
            answer = future.result()
        except OrthancRejected as exc:
            result.status = REJECTED
            result.reason = _("The image server refused the file: %(error)s") % {
                "error": exc.message
            }
            return
        except OrthancUnavailable:
            self.report.orthanc_unavailable = True
            result.status = REJECTED
            result.reason = _("Not stored: the image server is unavailable.")
            return
        result.status = ALREADY_PRESENT if answer.get("Status") == "AlreadyStored" else STORED

    def finish_pending(self) -> None:
        while self.pending:
            self._collect_one()

    def close(self) -> None:
        self.finish_pending()
        self.pool.shutdown(wait=True)


class UidTaken(DicomRejected):
    """A UID of the instance already exists in Orthanc under another PatientID."""

    def __init__(self, tag: str, reason: str) -> None:
        super().__init__(reason)
        self.tag = tag


class UidOwners:
    """Whether an instance's UIDs are free for its PatientID in Orthanc, asked once per study
    and series UID in a batch (and once per instance).

    Orthanc keys resources by (PatientID, UIDs): without this check an instance carrying another
    patient's StudyInstanceUID is stored as a second study with that UID, and another patient's
    images end up listed and served inside it.
    """

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self.known: dict[tuple[str, str], set[str]] = {}

    def _owners(self, uid: str, level: str) -> set[str]:
        key = (level, uid)
        if key not in self.known:
            self.known[key] = get_client().resource_patient_ids(uid, level, deadline=self.deadline)
        return self.known[key]

    def check(self, identity: DicomIdentity) -> None:
        """Raise UidTaken if a UID of the instance exists under another PatientID."""
        for uid, level, label in (
            (identity.study_uid, "Study", "StudyInstanceUID"),
            (identity.series_uid, "Series", "SeriesInstanceUID"),
            (identity.sop_instance_uid, "Instance", "SOPInstanceUID"),
        ):
            if self._owners(uid, level) - {identity.patient_id}:
                # The other PatientID is not named: the uploader may not see that patient.
                raise UidTaken(
                    label,
                    _(
                        "Its %(tag)s %(uid)s already belongs to another patient in the image "
                        "server; nothing was stored."
                    )
                    % {"tag": label, "uid": uid},
                )
        for uid, level in ((identity.study_uid, "Study"), (identity.series_uid, "Series")):
            self.known[(level, uid)].add(identity.patient_id)


def _check_and_send(
    name: str, fileobj: IO[bytes], patient: Patient, sender: _OrthancSender, owners: UidOwners
) -> None:
    try:
        identity = check_dicom_for_patient(fileobj, external_id=patient.external_id)
        owners.check(identity)
    except DicomRejected as exc:
        sender.report.add(name, REJECTED, str(exc))
        return
    except OrthancError:
        sender.report.orthanc_unavailable = True
        sender.report.add(name, REJECTED, _("Not stored: the image server is unavailable."))
        return
    sender.send(name, fileobj)


def dicom_upload(
    *, actor, patient: Patient, files: Iterable[tuple[str, IO[bytes]]]
) -> UploadReport:
    """Check and store each file (zips are expanded) one by one; never all in memory.

    A rejected file never reaches Orthanc; accepted files of the same batch are kept. If Orthanc
    goes down or stops answering mid-batch, or the batch runs past UPLOAD_BATCH_SECONDS, the
    files not yet sent are reported as not stored and the files already stored stay.
    """
    if not actor.has_perm(rights.UPLOAD_DICOM):
        raise PermissionDenied(_("You do not have the right to upload DICOM files."))
    if not patient_visible_queryset(user=actor).filter(pk=patient.pk).exists():
        raise PermissionDenied(_("You do not have the right to do this."))
    report = UploadReport()
    deadline = deadline_in(settings.UPLOAD_BATCH_SECONDS)
    sender = _OrthancSender(report, settings.UPLOAD_ORTHANC_CONCURRENCY, deadline)
    owners = UidOwners(deadline)
    try:
        for name, fileobj in files:
            fileobj.seek(0)
            if zipfile.is_zipfile(fileobj):
                fileobj.seek(0)
                for entry_name, entry in _zip_entries(name, fileobj, report):
                    _check_and_send(entry_name, entry, patient, sender, owners)
            else:
                fileobj.seek(0)
                _check_and_send(name, fileobj, patient, sender, owners)
    finally:
        sender.close()
        if report.stored:
            studies_cache_forget(patient)
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=Action.DICOM_UPLOAD,
                obj=patient,
                patient=patient,
                changes={
                    "stored": report.stored,
                    "already_present": report.already_present,
                    "rejected": len(report.rejected),
                },
            )
    return report


def copy_stream_to_tempfile(stream: IO[bytes], *, max_bytes: int) -> IO[bytes]:
    """Spool a request body to a temporary file in chunks (never whole in memory)."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller, who closes it
    copied = 0
    while chunk := stream.read(COPY_CHUNK):
        copied += len(chunk)
        if copied > max_bytes:
            target.close()
            raise ValueError(f"body larger than {max_bytes} bytes")
        target.write(chunk)
    target.seek(0)
    return target


def study_download_record(*, actor, patient: Patient, study: dict) -> None:
    """The audit event of a zip download (one per download)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=Action.STUDY_DOWNLOAD,
            object_type="study",
            object_id=study["study_instance_uid"],
            object_repr=study["description"] or study["study_instance_uid"],
            patient=patient,
        )


# --- DICOMweb ---------------------------------------------------------------------------------

VIEW_AUDIT_WINDOW_SECONDS = 600


def images_viewed_record(*, user, study_uid: str) -> None:
    """One "images viewed" event per user, study and 10-minute window, not one per frame.

    ``user`` is a user or a DICOMweb caller (``user_id`` and a ``user()`` loader), so a frame
    request whose event is already written reads no user row.
    """
    from django.core.cache import cache

    user_id = getattr(user, "user_id", None) or user.pk
    if not cache.add(f"audit:images-viewed:{user_id}:{study_uid}", 1, VIEW_AUDIT_WINDOW_SECONDS):
        return
    if callable(getattr(user, "user", None)):
        user = user.user()
    # Only a study held under one PatientID is ever served (see selectors.study_visibility_for).
    patient_ids = study_patient_ids(study_uid)
    patient = Patient.objects.filter(external_id__in=patient_ids).first()
    with transaction.atomic():
        audit_record(
            actor=user,
            action=Action.IMAGES_VIEW,
            object_type="study",
            object_id=study_uid,
            object_repr=study_uid,
            patient=patient,
        )


class StowRequestInvalid(Exception):
    pass


# DICOM status codes used in STOW-RS FailureReason (PS3.18 / PS3.7).
FAILURE_PROCESSING = 0x0110
FAILURE_DUPLICATE_SOP = 0x0111
FAILURE_NOT_AUTHORIZED = 0x0124
FAILURE_STUDY_MISMATCH = 0xA900
FAILURE_CANNOT_UNDERSTAND = 0xC000


@dataclass
class StowResult:
    stored: list[tuple[str, str, str]] = field(default_factory=list)  # (class, instance, study)
    failed: list[tuple[str, str, int, str]] = field(default_factory=list)  # + code, reason

    @property
    def status_code(self) -> int:
        if not self.failed:
            return 200
        return 202 if self.stored else 409

    def dicom_json(self, *, base_url: str) -> dict:
        def item(sop_class: str, sop_instance: str) -> dict:
            return {
                "00081150": {"vr": "UI", "Value": [sop_class]} if sop_class else {"vr": "UI"},
                "00081155": {"vr": "UI", "Value": [sop_instance]} if sop_instance else {"vr": "UI"},
            }

        body: dict = {}
        if self.stored:
            body["00081199"] = {
                "vr": "SQ",
                "Value": [
                    {**item(c, i), "00081190": {"vr": "UR", "Value": [f"{base_url}/studies/{s}"]}}
                    for c, i, s in self.stored
                ],
            }
        if self.failed:
            body["00081198"] = {
                "vr": "SQ",
                "Value": [
                    {
                        **item(c, i),
                        "00081197": {"vr": "US", "Value": [code]},
                        # Error Comment: the reason in words, for the people reading the answer.
                        "00000902": {"vr": "LO", "Value": [reason[:64]]},
                    }
                    for c, i, code, reason in self.failed
                ],
            }
        return body


def _boundary(content_type: str) -> bytes:
    media, _, rest = content_type.partition(";")
    if media.strip().lower() != "multipart/related":
        raise StowRequestInvalid('STOW-RS takes multipart/related; type="application/dicom".')
    for param in rest.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise StowRequestInvalid("The multipart/related Content-Type has no boundary.")


def iter_multipart_parts(stream, boundary: bytes, chunk: int = COPY_CHUNK) -> Iterator[IO[bytes]]:
    """The bodies of a multipart message, read from ``stream`` in chunks, each spooled."""
    dash = b"--" + boundary
    separator = b"\r\n" + dash
    buffer = bytearray()

    def fill() -> bool:
        data = stream.read(chunk)
        if data:
            buffer.extend(data)
        return bool(data)

    while (start := buffer.find(dash)) < 0:
        if not fill():
            raise StowRequestInvalid("The body has no part.")
    del buffer[: start + len(dash)]
    while True:
        while len(buffer) < 2 and fill():
            pass
        if buffer[:2] == b"--":
            return
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if not fill():
                raise StowRequestInvalid("A part has no end of headers.")
        del buffer[: end + 4]
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115
        while (end := buffer.find(separator)) < 0:
            keep = len(buffer) - len(separator)
            if keep > 0:
                spool.write(buffer[:keep])
                del buffer[:keep]
            if not fill():
                spool.close()
                raise StowRequestInvalid("A part is not terminated by the boundary.")
        spool.write(buffer[:end])
        del buffer[: end + len(separator)]
        spool.seek(0)
        try:
            yield spool
        finally:
            spool.close()


def stow_store(*, actor, stream, content_type: str, study_uid: str = "") -> StowResult:
    """Store the instances of a STOW-RS request, each checked like an upload.

    Every instance must be whole DICOM whose PatientID is a patient the actor sees (and may
    upload to, which the caller checked), and belong to ``study_uid`` when the URL names one.
    """
    boundary = _boundary(content_type)
    result = StowResult()
    patients: dict[str, Patient | None] = {}
    client = get_client()
    deadline = deadline_in(settings.UPLOAD_BATCH_SECONDS)
    owners = UidOwners(deadline)
    for part in iter_multipart_parts(stream, boundary):
        try:
            identity = inspect_dicom(part)
        except DicomRejected as exc:
            result.failed.append(("", "", FAILURE_CANNOT_UNDERSTAND, str(exc)))
            continue
        key = (identity.sop_class_uid, identity.sop_instance_uid)
        if identity.patient_id not in patients:
            patients[identity.patient_id] = (
                patient_visible_queryset(user=actor).filter(external_id=identity.patient_id).first()
            )
        patient = patients[identity.patient_id]
        if patient is None:
            reason = _("PatientID “%(id)s” is not a patient you can upload to.") % {
                "id": identity.patient_id
            }
            result.failed.append((*key, FAILURE_NOT_AUTHORIZED, reason))
            continue
        if study_uid and identity.study_uid != study_uid:
            result.failed.append(
                (*key, FAILURE_STUDY_MISMATCH, _("The instance is not in the study of the URL."))
            )
            continue
        try:
            owners.check(identity)
            client.store_instance(part, deadline=deadline)  # streamed from its spooled part
        except UidTaken as exc:
            code = FAILURE_DUPLICATE_SOP if exc.tag == "SOPInstanceUID" else FAILURE_NOT_AUTHORIZED
            result.failed.append((*key, code, str(exc)))
            continue
        except (OrthancRejected, OrthancUnavailable) as exc:
            result.failed.append((*key, FAILURE_PROCESSING, str(exc)))
            continue
        result.stored.append((*key, identity.study_uid))
    for patient in {p for p in patients.values() if p is not None}:
        studies_cache_forget(patient)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=Action.DICOM_STOW,
            object_type="study",
            object_id=study_uid,
            object_repr=study_uid or "STOW-RS",
            patient=next(iter(p for p in patients.values() if p is not None), None),
            changes={"stored": len(result.stored), "rejected": len(result.failed)},
        )
    return result
