"""May this user see these images: the image side's fetch-and-authorize, asked one way.

Patient-scoped pages (studies panel, thumbnails, zips, uploads) go through patients.access.
Study-scoped requests (DICOMweb, the viewer) name a StudyInstanceUID: ``study_for_viewing``
finds the one patient the study belongs to (a study belongs to the patient whose external ID is
its PatientID) and applies the same visibility rule, returning that patient or raising.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import rights
from orthanc_bridge.index.models import IndexedStudy
from orthanc_bridge.studies.selectors import study_patient_ids
from patients.access import require_right
from patients.selectors import (
    patient_visible_queryset,
    sees_every_patient,
    visible_external_ids_for,
)
from web.errors import Conflict, NotFound

NO_IMAGES = gettext_lazy("Viewing images needs the 'view images' right.")


@dataclass(frozen=True)
class StudyOwner:
    """The patient a study belongs to, as kept in the DICOMweb decision cache (shaped like a
    patient for audit_record); ``share_id`` names the share link that granted it, if one did."""

    pk: int
    external_id: str
    share_id: int | None = None


def require_image_viewer(*, user) -> None:
    require_right(user, rights.VIEW_IMAGES, NO_IMAGES)


def require_image_uploader(*, user) -> None:
    require_image_viewer(user=user)
    require_right(user, rights.UPLOAD_DICOM, _("Storing images needs the 'upload DICOM' right."))


def require_unassigned_reader(*, user) -> None:
    """The studies no patient record claims are for holders of "view all patients"."""
    require_right(user, rights.VIEW_ALL_PATIENTS)


def visible_studies(*, user) -> QuerySet[IndexedStudy]:
    """The user's studies in the index (searches, the worklist): of a patient they see, and not
    held by another patient as well. The "view images" right is checked by the caller."""
    if sees_every_patient(user=user):
        of_visible_patients = Q(patient__isnull=False)  # a plain filter the planner reads well
    else:
        of_visible_patients = Q(patient__in=patient_visible_queryset(user=user))
    return IndexedStudy.objects.filter(of_visible_patients, uid_shared=False)


def visible_patient_ids(*, user, patient_ids: list[str]) -> set[str]:
    """Which DICOM PatientIDs name patients the user sees (the QIDO filter)."""
    return visible_external_ids_for(user=user, external_ids=[p for p in patient_ids if p])


def study_for_viewing(*, user, study_uid: str) -> StudyOwner:
    """The patient of this study, if the user may view its images.

    Raises Forbidden without the "view images" right, NotFound when no patient the user sees
    holds the study, and Conflict when the user sees one of several patients that hold the same
    StudyInstanceUID: such a study is served to nobody, never mixed.
    """
    require_image_viewer(user=user)
    patient_ids = study_patient_ids(study_uid)
    patient = (
        patient_visible_queryset(user=user)
        .filter(external_id__in=[p for p in patient_ids if p])
        .only("pk", "external_id")
        .first()
    )
    if patient is None:
        raise NotFound(_("No such study."))
    if len(patient_ids) > 1:
        raise Conflict(
            _(
                "This StudyInstanceUID is held by several patients in the image server; it is "
                "withheld until an administrator resolves it."
            ),
            code="study_uid_conflict",
        )
    return StudyOwner(pk=patient.pk, external_id=patient.external_id)
