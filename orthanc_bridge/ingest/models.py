"""One upload of the patient page while its batches arrive.

The page sends a drop of many files as batches of requests (20 files, 64 MB each), all carrying
the same ``upload_id``. Their counts are added here, and the audit trail gets one event for the
user's action when the last batch is in (ingest.actions). A page closed half-way still gets its
event: ingest.actions.flush_stale writes what came once nothing has come for a while.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import Patient


class UploadAction(models.Model):
    upload_id = models.UUIDField(unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    patient = models.ForeignKey(Patient, null=True, on_delete=models.SET_NULL)
    batches_expected = models.PositiveIntegerField()
    batches_done = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    already_present = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)  # sent, unanswered: maybe stored
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("upload in progress")
        verbose_name_plural = _("uploads in progress")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.upload_id} ({self.batches_done}/{self.batches_expected})"
