"""DICOM dates and times (``20250310``, ``140512.000``): parsed once, here, and shown in the
active language's format (``10/03/2025`` and ``10/03/2025 14:05`` in French). A value that is no
valid date is shown as it is (never hidden), an empty one as "—". The templates use these through
the ``dicom_dates`` filters; Python code (the ingest check, the audit export) imports them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from django.utils import formats


def parse_dicom_date(value: str) -> date | None:
    """``YYYYMMDD`` (DICOM) or ``YYYY-MM-DD`` (the API's form of it); None if neither."""
    value = (value or "").strip()
    if len(value) == 10 and value[4] == value[7] == "-":
        value = value.replace("-", "")
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def parse_dicom_time(value: str) -> time | None:
    digits = (value or "").strip().split(".")[0].replace(":", "")
    if len(digits) < 4 or not digits.isdigit():
        return None
    try:
        return time(int(digits[:2]), int(digits[2:4]))
    except ValueError:
        return None


def dicom_date(value: str, time_value: str = "") -> str:
    day = parse_dicom_date(value)
    if day is None:
        return value or "—"
    moment = parse_dicom_time(time_value)
    if moment is None:
        return formats.date_format(day, "SHORT_DATE_FORMAT")
    return formats.date_format(datetime.combine(day, moment), "SHORT_DATETIME_FORMAT")


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def localized_dates(text: str) -> str:
    """Text whose ISO dates (``2025-03-10``, as stored in audit labels) are shown in the active
    language's format; anything else is left as it is."""

    def show(match: re.Match[str]) -> str:
        day = parse_dicom_date("".join(match.groups()))
        return formats.date_format(day, "SHORT_DATE_FORMAT") if day else match.group(0)

    return ISO_DATE.sub(show, text or "")
