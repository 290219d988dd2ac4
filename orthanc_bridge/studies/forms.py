"""The worklist's filters (pages and API alike): what staff look exams up by."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The modalities offered in the filter; any other code can still be typed in the API.
MODALITIES = ["CT", "MR", "US", "CR", "DX", "MG", "PT", "NM", "XA", "RF", "OT", "SR", "SEG"]


class Period:
    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "7d"
    LAST_30_DAYS = "30d"
    CUSTOM = "custom"

    CHOICES = [
        ("", _("Any date")),
        (TODAY, _("Today")),
        (YESTERDAY, _("Yesterday")),
        (LAST_7_DAYS, _("Last 7 days")),
        (LAST_30_DAYS, _("Last 30 days")),
        (CUSTOM, _("From… to…")),
    ]


class WorklistFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Patient"),
        required=False,
        max_length=100,
        help_text=_("Name or IPP; accents and case do not matter."),
    )
    period = forms.ChoiceField(label=_("Date"), choices=Period.CHOICES, required=False)
    # YYYY-MM-DD only (what a date input sends): "03/04/2025" would mean two days by language.
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    modality = forms.CharField(
        label=_("Modality"),
        required=False,
        max_length=16,
        widget=forms.Select(choices=[("", _("All"))] + [(m, m) for m in MODALITIES]),
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=100)
    accession = forms.CharField(label=_("Accession number"), required=False, max_length=64)
    referring = forms.CharField(label=_("Referring physician"), required=False, max_length=100)

    def clean_modality(self) -> str:
        value = self.cleaned_data["modality"].strip().upper()
        if value and not value.isalnum():
            raise forms.ValidationError(_("A modality is a code such as CT or MR."))
        return value

    def date_range(self) -> tuple[date | None, date | None]:
        """The first and last day asked for (either may be open), from the quick choice or the
        two dates; today is the portal's time zone's."""
        data: dict[str, Any] = self.cleaned_data
        today = timezone.localdate()
        period = data.get("period")
        if period == Period.TODAY:
            return today, today
        if period == Period.YESTERDAY:
            return today - timedelta(days=1), today - timedelta(days=1)
        if period == Period.LAST_7_DAYS:
            return today - timedelta(days=6), today
        if period == Period.LAST_30_DAYS:
            return today - timedelta(days=29), today
        return data.get("date_from"), data.get("date_to")

    def filters(self) -> dict[str, Any]:
        """The validated filters as orthanc_bridge.studies.selectors.worklist takes them."""
        first_day, last_day = self.date_range()
        data = self.cleaned_data
        return {
            "q": data["q"],
            "first_day": first_day,
            "last_day": last_day,
            "modality": data["modality"],
            "description": data["description"],
            "accession": data["accession"],
            "referring": data["referring"],
        }
