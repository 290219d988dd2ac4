"""A patient saved (created, or given another external ID) takes the studies indexed under its
external ID at once, without asking Orthanc."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from orthanc_bridge.index.services import link_patient
from patients.models import Patient


@receiver(post_save, sender=Patient, dispatch_uid="orthanc_bridge.index.link_patient")
def _patient_saved(sender, instance: Patient, raw: bool = False, **kwargs) -> None:
    if not raw:
        link_patient(instance)
