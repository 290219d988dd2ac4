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
from pydicom.encaps import generate_fragments
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import get_expected_length

PREAMBLE_LENGTH = 128
# DICOM UIDs (PS3.5 9.1): digits in components separated by single dots, at most 64 characters.
UID_PATTERN = r"[0-9]+(?:\.[0-9]+)*"
UID_MAX_LENGTH = 64


def is_uid(value: str) -> bool:
    return len(value) <= UID_MAX_LENGTH and re.fullmatch(UID_PATTERN, value) is not None


# Orthanc indexes instances by the UIDs, and STOW-RS requires the SOP Class: a file without
# them is cut short or not an image.
REQUIRED_TAGS = ["SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"]


class DicomRejected(Exception):
    """The file is not acceptable; ``str(exc)`` is the reason for the user, and ``identity``
    what could be read of it (STOW-RS answers name the instance when they can)."""

    def __init__(self, reason: str, identity: DicomIdentity | None = None) -> None:
        super().__init__(reason)
        self.identity = identity


def is_dicom_file(fileobj: IO[bytes]) -> bool:
    """A DICOM Part 10 file: 128-byte preamble, then "DICM"."""
    start = fileobj.tell()
    head = fileobj.read(PREAMBLE_LENGTH + 4)
    fileobj.seek(start)
    return len(head) == PREAMBLE_LENGTH + 4 and head[PREAMBLE_LENGTH:] == b"DICM"


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


def inspect_dicom(fileobj: IO[bytes]) -> DicomIdentity:
    """Raise DicomRejected unless the file is whole, readable DICOM; return who it is about.

    The file position is restored for the caller.
    """
    start = fileobj.tell()
    if not is_dicom_file(fileobj):
        raise DicomRejected(_("Not a DICOM file (no DICM marker after the preamble)."))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dataset = dcmread(fileobj)
        # pydicom reads a cut file as far as it goes and only warns about the missing end.
        for warning in caught:
            if "End of file" in str(warning.message):
                raise DicomRejected(_("Truncated DICOM file: it ends before its last element."))
        identity = DicomIdentity(
            patient_id=str(dataset.get("PatientID", "")).strip(),
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
        _check_pixel_data_complete(dataset, identity)
    except DicomRejected:
        raise
    except (InvalidDicomError, ValueError, EOFError, OSError, KeyError, AttributeError) as exc:
        raise DicomRejected(_("Unreadable DICOM file: %(error)s") % {"error": exc}) from exc
    finally:
        fileobj.seek(start)
    return identity


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
