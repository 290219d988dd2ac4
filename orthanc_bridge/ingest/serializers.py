"""Shapes of the upload API (documentation for the OpenAPI schema)."""

from rest_framework import serializers


class RejectedFileOutput(serializers.Serializer):
    file = serializers.CharField()
    reason = serializers.CharField()


class UploadedFileOutput(RejectedFileOutput):
    status = serializers.ChoiceField(
        choices=["stored", "already_present", "rejected", "unknown"],
        help_text="unknown: sent, but the image server did not confirm it; it may be stored, "
        "and sending it again is safe.",
    )
    warning = serializers.CharField(
        help_text="Stored, but the file's patient name or birth date differ from the record."
    )


class UploadOutput(serializers.Serializer):
    stored = serializers.IntegerField()
    already_present = serializers.IntegerField()
    rejected = RejectedFileOutput(many=True)
    unknown = RejectedFileOutput(
        many=True, help_text="Files sent whose storing was not confirmed: send them again."
    )
    files = UploadedFileOutput(many=True, help_text="Every file, in order, with its outcome.")


class UploadInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField())
