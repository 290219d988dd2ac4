"""The share form of the pages (the API takes the same fields: shares.serializers)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

LIFETIMES_HOURS = [1, 4, 24, 3 * 24, 7 * 24, 14 * 24, 30 * 24]


def _lifetime_label(hours: int) -> str:
    if hours < 24:
        return str(ngettext_lazy("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    days = hours // 24
    return str(ngettext_lazy("%(count)d day", "%(count)d days", days) % {"count": days})


class ShareForm(forms.Form):
    expires_in_hours = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        help_text=_("The link stops working at the end, or when it is revoked."),
    )
    allow_download = forms.BooleanField(
        label=_("Allow downloading the study as a zip"), required=False
    )
    note = forms.CharField(
        label=_("Note (who it is for)"),
        max_length=200,
        required=False,
        help_text=_("Shown in the list of links and in the audit trail, not to the visitor."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["expires_in_hours"]
        hours = [h for h in LIFETIMES_HOURS if h <= settings.SHARE_LINK_MAX_HOURS]
        field.choices = [(h, _lifetime_label(h)) for h in hours]  # type: ignore[attr-defined]
        field.initial = settings.SHARE_LINK_DEFAULT_HOURS
