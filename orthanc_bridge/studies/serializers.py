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


class WorklistRowOutput(serializers.Serializer):
    """One exam of the worklist (an indexed study, shown through selectors.worklist_row)."""

    study_instance_uid = serializers.CharField()
    study_date = serializers.CharField(help_text="YYYYMMDD, as in DICOM")
    study_time = serializers.CharField(help_text="HHMMSS, as in DICOM")
    patient_id = serializers.IntegerField(help_text="The patient record's id")
    patient_external_id = serializers.CharField(help_text="IPP (the DICOM PatientID)")
    patient_name = serializers.CharField()
    modalities = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    accession_number = serializers.CharField()
    referring_physician = serializers.CharField()
    series_count = serializers.IntegerField()
    instance_count = serializers.IntegerField()
    viewer_url = serializers.CharField()

    def to_representation(self, instance):
        from orthanc_bridge.studies.selectors import worklist_row

        return super().to_representation(worklist_row(instance))
