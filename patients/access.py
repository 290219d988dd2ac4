"""May this user do that to this patient: the one way it is asked (fetch-and-authorize).

Each function returns the patient or raises: ``NotFound`` when the user cannot see it (its
existence must not leak), ``Forbidden`` when they see it but lack the right. Pages, the API and
the image side (uploads, studies, DICOMweb) call these; services receive patients already
authorized. Who sees which patient is decided in one place: selectors.patient_visible_queryset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import rights
from patients.models import Patient
from patients.selectors import patient_visible_queryset
from web.errors import Forbidden, NotFound


def require_right(user, right: str, message: Any = None) -> None:
    if not user.has_perm(right):
        raise Forbidden(message)


def patient_for_view(*, user, pk: int) -> Patient:
    patient = patient_visible_queryset(user=user).filter(pk=pk).prefetch_related("groups").first()
    if patient is None:
        raise NotFound(_("No such patient."))
    return patient


def _patient_needing(right: str, message: Any = None) -> Callable[..., Patient]:
    """A fetch-and-authorize function: the patient if visible (else NotFound), and the right
    (else Forbidden)."""

    def patient_for(*, user, pk: int) -> Patient:
        patient = patient_for_view(user=user, pk=pk)
        require_right(user, right, message)
        return patient

    return patient_for


patient_for_change = _patient_needing(rights.CHANGE_PATIENT)
patient_for_delete = _patient_needing(rights.DELETE_PATIENT)
# Its studies, thumbnails and zips.
patient_for_images = _patient_needing(rights.VIEW_IMAGES)
patient_for_upload = _patient_needing(
    rights.UPLOAD_DICOM, gettext_lazy("You do not have the right to upload DICOM files.")
)


def patient_for_upload_by_external_id(*, user, external_id: str) -> Patient | None:
    """The patient a DICOM PatientID names, if the user may upload to it (STOW-RS, where each
    instance names its own patient); None otherwise, which the caller reports per instance."""
    if not user.has_perm(rights.UPLOAD_DICOM):
        return None
    return patient_visible_queryset(user=user).filter(external_id=external_id).first()


def require_patient_add(*, user) -> None:
    require_right(user, rights.ADD_PATIENT)
