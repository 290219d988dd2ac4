"""Reading a candidate file: is it whole DICOM, and whom is it about?

The ingest pipeline builds its safety check on this; the reasons are shown to users as they are.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from pydicom import dcmread
from pydicom.encaps import generate_fragments
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import get_expected_length

PREAMBLE_LENGTH = 128
# Orthanc indexes instances by the UIDs, and STOW-RS requires the SOP Class: a file without
# them is cut short or not an image.
REQUIRED_TAGS = ["SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"]


class DicomRejected(Exception):
    """The file is not acceptable; ``str(exc)`` is the reason for the user."""


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
        missing = [tag for tag in REQUIRED_TAGS if not str(dataset.get(tag, "")).strip()]
        if missing:
            raise DicomRejected(
                _("Incomplete DICOM file: %(tags)s missing.") % {"tags": ", ".join(missing)}
            )
        patient_id = str(dataset.get("PatientID", "")).strip()
        _check_pixel_data_complete(dataset)
    except DicomRejected:
        raise
    except (InvalidDicomError, ValueError, EOFError, OSError, KeyError, AttributeError) as exc:
        raise DicomRejected(_("Unreadable DICOM file: %(error)s") % {"error": exc}) from exc
    finally:
        fileobj.seek(start)
    return DicomIdentity(
        patient_id=patient_id,
        study_uid=str(dataset.get("StudyInstanceUID", "")),
        series_uid=str(dataset.get("SeriesInstanceUID", "")),
        sop_class_uid=str(dataset.get("SOPClassUID", "")),
        sop_instance_uid=str(dataset.get("SOPInstanceUID", "")),
    )


def _check_pixel_data_complete(dataset) -> None:
    """A truncated file still parses; its pixel data is then shorter than the image needs."""
    if "PixelData" not in dataset:
        return
    element = dataset["PixelData"]
    if dataset.file_meta.TransferSyntaxUID.is_encapsulated:
        try:
            fragments = list(generate_fragments(element.value))
        except (ValueError, EOFError) as exc:
            raise DicomRejected(_("Truncated DICOM file: %(error)s") % {"error": exc}) from exc
        if not fragments:
            raise DicomRejected(_("Truncated DICOM file: no image data."))
        return
    expected = get_expected_length(dataset, unit="bytes")
    actual = len(element.value or b"")
    # Odd lengths are padded to even in DICOM.
    if actual < expected:
        raise DicomRejected(
            _("Truncated DICOM file: %(actual)s of %(expected)s bytes of image data.")
            % {"actual": actual, "expected": expected}
        )
