"""Reading a candidate file: is it whole DICOM, and whom is it about?

The ingest pipeline builds its safety check on this; the reasons are shown to users as they are.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.encaps import generate_fragments
from pydicom.pixels.utils import get_expected_length

PREAMBLE_LENGTH = 128
# DICOM UIDs (PS3.5 9.1): digits in components separated by single dots, at most 64 characters.
UID_PATTERN = r"[0-9]+(?:\.[0-9]+)*"
UID_MAX_LENGTH = 64


def is_uid(value: str) -> bool:
    return len(value) <= UID_MAX_LENGTH and re.fullmatch(UID_PATTERN, value) is not None


# Orthanc indexes instances by the UIDs, and STOW-RS requires the SOP Class: a file without
# them is cut short or not an image.
PATIENT_ID_TAG = 0x00100020
UNDEFINED_LENGTH = 0xFFFFFFFF
MAX_READS = 100_000
MAX_FRAGMENT_READS = 2_000_000
REQUIRED_TAGS = ["SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"]


class DicomRejected(Exception):
    """The file is not acceptable; ``str(exc)`` is the reason for the user, and ``identity``
    what could be read of it (STOW-RS answers name the instance when they can)."""

    def __init__(self, reason: str, identity: DicomIdentity | None = None) -> None:
        super().__init__(reason)
        self.identity = identity


HEAD_LENGTH = PREAMBLE_LENGTH + 4


def head_problem(head: bytes) -> str:
    """Why a file whose first HEAD_LENGTH bytes are ``head`` is not DICOM Part 10 (a 128-byte
    preamble, then "DICM"); empty when it may be. Decided from the first bytes alone, so a zip
    entry is refused before it is inflated any further."""
    if not head:
        return _("Empty file.")
    if len(head) < HEAD_LENGTH or head[PREAMBLE_LENGTH:HEAD_LENGTH] != b"DICM":
        return _("Not a DICOM file (no DICM marker after the preamble).")
    return ""


@dataclass(frozen=True)
class DicomIdentity:
    patient_id: str
    study_uid: str
    series_uid: str
    sop_class_uid: str
    sop_instance_uid: str
    # What the file says of the patient, compared with the record (never a reason to refuse).
    patient_name: str = ""
    patient_birth_date: str = ""


class _ReadCounted:
    """The file as pydicom reads it, its elements counted and refused past a bound: a forged
    file of millions of empty elements (a preamble, then zeros) would hold a worker for minutes.

    pydicom reads each element's header in one 8-byte read (tag, VR and length): real files have
    hundreds of top-level elements (a sequence's items are parsed only when read, and nothing
    here reads them), so MAX_READS of those. The items of an encapsulated pixel data are read
    4 bytes at a time (tag, then length), two per frame: a clip of 60,000 frames is 120,000 of
    them, so they have a bound of their own, MAX_FRAGMENT_READS, far above any real image and
    still read in a few seconds.
    """

    def __init__(self, fileobj: IO[bytes]) -> None:
        self._file = fileobj
        self._headers = 0
        self._fragments = 0

    def read(self, size: int = -1) -> bytes:
        if size == 8:
            self._headers += 1
        elif 0 <= size <= 4:
            self._fragments += 1
        if self._headers > MAX_READS or self._fragments > MAX_FRAGMENT_READS:
            raise DicomRejected(
                _("Unreadable DICOM file: more than %(count)s elements.") % {"count": MAX_READS}
            )
        return self._file.read(size)

    def __getattr__(self, name: str):
        return getattr(self._file, name)


def inspect_dicom(fileobj: IO[bytes]) -> DicomIdentity:
    """Raise DicomRejected unless the file is whole, readable DICOM; return who it is about.

    The file position is restored for the caller.
    """
    start = fileobj.tell()
    problem = head_problem(fileobj.read(HEAD_LENGTH))
    fileobj.seek(start)
    if problem:
        raise DicomRejected(problem)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dataset = dcmread(_ReadCounted(fileobj))
        # pydicom reads a cut file as far as it goes and only warns about the missing end.
        for warning in caught:
            if "End of file" in str(warning.message):
                raise DicomRejected(_("Truncated DICOM file: it ends before its last element."))
        _check_declared_lengths(dataset)
        patient_id_bytes = _raw_bytes(dataset, PATIENT_ID_TAG)  # before pydicom converts it
        identity = DicomIdentity(
            # As Orthanc indexes it: a leading space is kept (never stripped here).
            patient_id=str(dataset.get("PatientID", "")),
            study_uid=str(dataset.get("StudyInstanceUID", "")),
            series_uid=str(dataset.get("SeriesInstanceUID", "")),
            sop_class_uid=str(dataset.get("SOPClassUID", "")),
            sop_instance_uid=str(dataset.get("SOPInstanceUID", "")),
            patient_name=str(dataset.get("PatientName", "")).strip(),
            patient_birth_date=str(dataset.get("PatientBirthDate", "")).strip(),
        )
        missing = [tag for tag in REQUIRED_TAGS if not str(dataset.get(tag, "")).strip()]
        if missing:
            raise DicomRejected(
                _("Incomplete DICOM file: %(tags)s missing.") % {"tags": ", ".join(missing)},
                identity,
            )
        for tag in REQUIRED_TAGS:
            # Orthanc, the index and the portal's URLs key instances by these UIDs.
            if not is_uid(uid := str(dataset.get(tag))):
                reason = _("Its %(tag)s “%(uid)s” is not a DICOM UID.") % {
                    "tag": tag,
                    "uid": uid[: UID_MAX_LENGTH + 1],
                }
                raise DicomRejected(reason, identity)
        _check_patient_id_as_indexed(patient_id_bytes, identity)
        _check_pixel_data_complete(dataset, identity)
    except DicomRejected:
        raise
    except Exception as exc:  # any failure of the parser on a hostile file
        # The files are hostile input: pydicom raises whatever its parsing of a forged element
        # leads to (ValueError, struct.error, IndexError, TypeError...); each is a refusal.
        raise DicomRejected(_("Unreadable DICOM file: %(error)s") % {"error": exc}) from exc
    finally:
        fileobj.seek(start)
    return identity


def _check_declared_lengths(dataset) -> None:
    """An element longer than the rest of the file is a cut or forged file; pydicom reads what
    there is of its last element without a word (a PixelData declared 4 GB long, holding the
    8 KB an image needs, would reach Orthanc)."""
    for element in dataset.elements():
        if not isinstance(element, RawDataElement) or element.length == UNDEFINED_LENGTH:
            continue
        if element.value is not None and len(element.value) < element.length:
            raise DicomRejected(
                _(
                    "Truncated DICOM file: its element %(tag)s declares %(declared)s bytes, "
                    "the file holds %(actual)s."
                )
                % {"tag": element.tag, "declared": element.length, "actual": len(element.value)}
            )


def _raw_bytes(dataset, tag: int) -> bytes:
    """An element's bytes as in the file, padding included; empty when it is absent."""
    element = dataset.get_item(tag)
    if element is None or element.value is None:
        return b""
    return element.value if isinstance(element.value, bytes) else str(element.value).encode()


def _check_patient_id_as_indexed(raw: bytes, identity: DicomIdentity) -> None:
    """Refuse a PatientID that Orthanc would index otherwise than the portal compares it.

    Orthanc removes the trailing padding (spaces, then NULs) and keeps everything else: a
    PatientID " SEC-F-0001" is another patient there than "SEC-F-0001", and "W \\0" is "W "
    there while pydicom reads "W". An external ID never has surrounding spaces nor control
    characters (patients.models), so such a file can only land in the unassigned inbox: it is
    refused, with the reason, rather than rewritten (the portal stores files as they were made;
    a modality's C-STORE of the same file reaches Orthanc unchanged).
    """
    indexed = raw.rstrip(b" ").rstrip(b"\0")
    # ESC (0x1b) introduces ISO 2022 character sets: part of a name, not a control character.
    controls = any((byte < 0x20 and byte != 0x1B) or byte == 0x7F for byte in indexed)
    if controls or indexed != indexed.strip():
        reason = _(
            "The file's PatientID “%(found)s” has spaces or control characters around or in "
            "it, which the image server keeps: its images would not be filed under "
            "“%(meant)s”. Correct the PatientID in the file and send it again."
        ) % {"found": identity.patient_id, "meant": identity.patient_id.strip()}
        raise DicomRejected(reason, identity)


def _check_pixel_data_complete(dataset, identity: DicomIdentity) -> None:
    """A truncated file still parses; its pixel data is then shorter than the image needs."""
    if "PixelData" not in dataset:
        return
    element = dataset["PixelData"]
    if dataset.file_meta.TransferSyntaxUID.is_encapsulated:
        try:
            fragments = list(generate_fragments(element.value))
        except (ValueError, EOFError) as exc:
            reason = _("Truncated DICOM file: %(error)s") % {"error": exc}
            raise DicomRejected(reason, identity) from exc
        if not fragments:
            raise DicomRejected(_("Truncated DICOM file: no image data."), identity)
        return
    expected = get_expected_length(dataset, unit="bytes")
    actual = len(element.value or b"")
    # Odd lengths are padded to even in DICOM.
    if actual < expected:
        raise DicomRejected(
            _("Truncated DICOM file: %(actual)s of %(expected)s bytes of image data.")
            % {"actual": actual, "expected": expected},
            identity,
        )
