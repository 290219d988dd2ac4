"""The study index: what Orthanc holds, one row per study and per series, in the portal's database.

Kept in step with Orthanc by ``index.sync`` (the ``orthanc_sync`` worker following Orthanc's
``/changes`` feed, and every upload or STOW through the portal at once). Searches (QIDO), the
studies panel, the unassigned list and the DICOMweb decision read it instead of Orthanc, so their
cost follows what the user sees, not the size of the archive.

A study belongs to the patient record whose external ID is its PatientID (``patient``, kept by
the sync and by patients' own saves). Orthanc keys studies by (PatientID, StudyInstanceUID): the
same UID may have several rows, one per PatientID; such a study is served to nobody.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patients.models import Patient


class IndexedStudy(models.Model):
    orthanc_id = models.CharField(max_length=64, unique=True)
    study_uid = models.CharField(max_length=64, db_index=True)
    dicom_patient_id = models.CharField(max_length=64, db_index=True)  # PatientID (0010,0020)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="indexed_studies"
    )
    patient_name = models.CharField(max_length=324, blank=True)
    patient_birth_date = models.CharField(max_length=8, blank=True)
    patient_sex = models.CharField(max_length=16, blank=True)
    study_date = models.CharField(max_length=8, blank=True)
    study_time = models.CharField(max_length=16, blank=True)
    accession_number = models.CharField(max_length=64, blank=True)
    study_id = models.CharField(max_length=64, blank=True)  # StudyID (0020,0010)
    study_description = models.CharField(max_length=324, blank=True)
    referring_physician = models.CharField(max_length=324, blank=True)
    # " CT MR ": each modality between spaces, so one is matched with a plain substring.
    modalities = models.CharField(max_length=200, blank=True)
    series_count = models.PositiveIntegerField(default=0)
    instance_count = models.PositiveIntegerField(default=0)
    # Folded (upper case, accents removed; patients.models.search_fold) for searches.
    patient_name_fold = models.CharField(max_length=324, blank=True)
    referring_physician_fold = models.CharField(max_length=324, blank=True)
    study_description_fold = models.CharField(max_length=324, blank=True)
    # Another row has the same StudyInstanceUID (under another PatientID): served to nobody.
    # Kept by the sync, so a search filters on a column instead of comparing rows.
    uid_shared = models.BooleanField(default=False)
    # Orthanc's own QIDO answer for this study (its default attributes, RetrieveURL left out),
    # kept so a search page costs no call to Orthanc; emptied whenever the study is read again.
    qido_answer = models.JSONField(null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("indexed study")
        verbose_name_plural = _("indexed studies")
        default_permissions = ()
        indexes = [
            # Newest first: the order of every study list, read from the index when paging.
            models.Index(fields=["study_date", "study_time", "id"], name="study_date_order"),
            models.Index(fields=["patient", "study_date"], name="study_patient_date"),
            # Exact or prefix ("ACC2025*", the worklist) whatever the database's collation.
            models.Index(
                fields=["accession_number"],
                name="study_accession_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            # LIKE 'PREFIX%' whatever the database's collation.
            models.Index(
                fields=["patient_name_fold"],
                name="study_patient_name",
                opclasses=["varchar_pattern_ops"],
            ),
            # What the follower has still to ask Orthanc (index.answers.fill_missing).
            models.Index(
                fields=["id"], condition=Q(qido_answer__isnull=True), name="study_answer_missing"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study_uid} ({self.dicom_patient_id})"

    @property
    def modality_list(self) -> list[str]:
        return self.modalities.split()


class IndexedSeries(models.Model):
    study = models.ForeignKey(IndexedStudy, on_delete=models.CASCADE, related_name="series")
    orthanc_id = models.CharField(max_length=64, unique=True)
    series_uid = models.CharField(max_length=64, db_index=True)
    modality = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=324, blank=True)
    number = models.CharField(max_length=16, blank=True)
    instance_count = models.PositiveIntegerField(default=0)
    # Orthanc's ID of the instance shown as the series' preview (the middle one).
    thumbnail_instance = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("indexed series")
        verbose_name_plural = _("indexed series")
        default_permissions = ()

    def __str__(self) -> str:
        return self.series_uid


class SyncState(models.Model):
    """Where the follower is in one Orthanc's ``/changes`` feed (one row per Orthanc URL)."""

    orthanc = models.CharField(max_length=200, unique=True)
    last_change = models.BigIntegerField(default=0)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    followed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.orthanc} @ {self.last_change}"
