"""The DICOM date filters of every page (``{% load dicom_dates %}``), from web.dates.

``{{ study.study_date|dicom_date }}`` → ``10/03/2025`` in French; ``{{ study.study_date|
dicom_date:study.study_time }}`` → ``10/03/2025 14:05``; ``{{ text|localized_dates }}`` shows the
ISO dates of a text in the active language's format.
"""

from __future__ import annotations

from django import template

from web import dates

register = template.Library()
register.filter("dicom_date", dates.dicom_date)
register.filter("localized_dates", dates.localized_dates)
