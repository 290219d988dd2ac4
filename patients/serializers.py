from __future__ import annotations

from django.contrib.auth.models import Group
from rest_framework import serializers

from patients.models import EXTERNAL_ID_MAX_LENGTH, Patient, Sex


class PatientOutput(serializers.ModelSerializer):
    groups = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id", "external_id", "family_name", "given_name", "birth_date", "sex", "notes",
            "groups", "created_at", "updated_at",
        ]  # fmt: skip

    def get_groups(self, patient: Patient) -> list[int]:
        # From the prefetch in the selector: no query per patient.
        return sorted(g.id for g in patient.groups.all())


class PatientInput(serializers.Serializer):
    """Field shapes only; the service validates DICOM rules, uniqueness and group rights."""

    external_id = serializers.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    family_name = serializers.CharField(max_length=100)
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(
        choices=[("", "unknown"), *Sex.choices], required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    groups = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Group.objects.all(), required=False
    )
