"""Shapes of the studies API (the serializer also picks the public fields of a study)."""

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
