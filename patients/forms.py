from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patients.models import Patient, Sex
from patients.selectors import assignable_groups_for


class PatientForm(forms.ModelForm):
    """Field validation for the pages; the service re-validates and decides on groups."""

    class Meta:
        model = Patient
        fields = [
            "external_id",
            "family_name",
            "given_name",
            "birth_date",
            "sex",
            "notes",
            "groups",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "groups": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups_field = self.fields["groups"]
        assert isinstance(groups_field, forms.ModelMultipleChoiceField)
        groups_field.queryset = assignable_groups_for(user=user)
        self.fields["groups"].help_text = _("The groups that care for this patient.")
        sex_field = self.fields["sex"]
        assert isinstance(sex_field, forms.ChoiceField)
        sex_field.choices = [("", _("Unknown")), *Sex.choices]
        if self.instance.pk:
            # Show only the user's own groups as ticked; other groups are kept by the service.
            self.initial["groups"] = [
                g for g in self.instance.groups.all() if g in groups_field.queryset
            ]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["groups"] = list(data.get("groups") or [])
        return data
