"""DICOM dates shown in the active language (web.dates, the dicom_dates filters)."""

from __future__ import annotations

import pytest
from django.utils import translation

from web.dates import dicom_date


@pytest.mark.parametrize(
    "language, value, time, shown",
    [
        ("fr", "20250310", "", "10/03/2025"),
        ("fr", "20250310", "140512.000", "10/03/2025 14:05"),
        ("fr", "2025-03-10", "", "10/03/2025"),
        ("en", "20250310", "", "03/10/2025"),
        ("en", "20250310", "1405", "03/10/2025 2:05 p.m."),
        ("fr", "20251340", "", "20251340"),  # no such day: shown as it is, never hidden
        ("fr", "", "", "—"),
        ("fr", "20250310", "99", "10/03/2025"),  # a time that is no time is left out
    ],
)
def test_dicom_dates_in_the_active_language(language, value, time, shown):
    with translation.override(language):
        assert dicom_date(value, time) == shown


def test_iso_dates_inside_a_text_follow_the_language():
    from web.dates import localized_dates

    with translation.override("fr"):
        assert localized_dates("Scanner, 2025-03-10") == "Scanner, 10/03/2025"
        assert localized_dates("Acc 2025-13-45 x") == "Acc 2025-13-45 x"  # no such day
    with translation.override("en"):
        assert localized_dates("Scanner, 2025-03-10") == "Scanner, 03/10/2025"
