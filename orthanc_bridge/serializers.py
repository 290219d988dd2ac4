"""Shapes of the bridge's API answers (documentation for the OpenAPI schema)."""

from rest_framework import serializers


class SeriesOutput(serializers.Serializer):
    series_instance_uid = serializers.CharField()
    modality = serializers.CharField()
    description = serializers.CharField()
    instance_count = serializers.IntegerField()


class StudyOutput(serializers.Serializer):
    study_instance_uid = serializers.CharField()
    study_date = serializers.CharField(help_text="YYYY-MM-DD")
    description = serializers.CharField()
    modalities = serializers.ListField(child=serializers.CharField())
    accession_number = serializers.CharField()
    referring_physician = serializers.CharField()
    series = SeriesOutput(many=True)
    viewer_url = serializers.CharField()


class RejectedFileOutput(serializers.Serializer):
    file = serializers.CharField()
    reason = serializers.CharField()


class UploadedFileOutput(RejectedFileOutput):
    status = serializers.ChoiceField(choices=["stored", "already_present", "rejected"])


class UploadOutput(serializers.Serializer):
    stored = serializers.IntegerField()
    already_present = serializers.IntegerField()
    rejected = RejectedFileOutput(many=True)
    files = UploadedFileOutput(many=True, help_text="Every file, in order, with its outcome.")


class UploadInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField())
