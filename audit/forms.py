from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.models import Action


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("email"), required=False, label=_("User")
    )
    action = forms.ChoiceField(
        choices=[("", _("All actions")), *Action.choices], required=False, label=_("Action")
    )
    patient = forms.CharField(
        required=False, max_length=64, label=_("Patient (external ID or portal number)")
    )
    # A patient record by its portal id only (the patient page's link to its whole trail).
    record = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> dict:
        """Selector arguments. An invalid filter selects nothing (its error is shown): dropping
        it would widen the list, or an export, to events the reader did not ask for."""
        if self.is_bound and not self.is_valid():
            return {"nothing": True}
        data = self.cleaned_data if self.is_bound else {}
        actor = data.get("actor")
        return {
            "actor_id": actor.pk if actor else None,
            "action": data.get("action", ""),
            "patient": data.get("patient", ""),
            "record": data.get("record"),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
