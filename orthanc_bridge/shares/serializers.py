"""Shapes of the share links API (the same fields as shares.forms.ShareForm)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from orthanc_bridge.dicom_checks import UID_MAX_LENGTH
from orthanc_bridge.shares.models import ShareLink


class ShareInput(serializers.Serializer):
    study_uid = serializers.RegexField(r"^[0-9]+(\.[0-9]+)*$", max_length=UID_MAX_LENGTH)
    expires_in_hours = serializers.IntegerField(
        min_value=1,
        max_value=settings.SHARE_LINK_MAX_HOURS,
        default=settings.SHARE_LINK_DEFAULT_HOURS,
    )
    allow_download = serializers.BooleanField(default=False)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class ShareListQuery(serializers.Serializer):
    """The list's filters (query parameters): an unknown status is refused, not read as "all"."""

    status = serializers.ChoiceField(
        choices=["active", "all"], default="active", help_text="active (default) or all"
    )
    study_uid = serializers.CharField(
        required=False, allow_blank=True, help_text="Links to this study only"
    )


class ShareOutput(serializers.ModelSerializer):
    status = serializers.CharField(help_text="active, expired or revoked")
    patient_external_id = serializers.CharField(source="patient.external_id")
    created_by = serializers.EmailField(source="created_by.email", default=None, allow_null=True)
    revoked_by = serializers.EmailField(source="revoked_by.email", default=None, allow_null=True)

    class Meta:
        model = ShareLink
        fields = [
            "id", "study_uid", "study_repr", "patient", "patient_external_id", "status",
            "expires_at", "allow_download", "note", "created_by", "created_at", "revoked_at",
            "revoked_by", "opened_count", "last_opened_at",
        ]  # fmt: skip


class ShareCreatedOutput(ShareOutput):
    url = serializers.SerializerMethodField(
        help_text="The link to send: shown this once, only its hash is kept"
    )

    class Meta(ShareOutput.Meta):
        fields = [*ShareOutput.Meta.fields, "url"]

    def get_url(self, share: ShareLink) -> str:
        return str(self.context["url"])
