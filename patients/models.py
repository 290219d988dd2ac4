from __future__ import annotations

import datetime
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# DICOM LO (Long String), the value representation of PatientID (0010,0020): at most 64
# characters, no backslash (it separates multiple values) and no control character.
EXTERNAL_ID_MAX_LENGTH = 64


def validate_dicom_long_string(value: str) -> None:
    if "\\" in value:
        raise ValidationError(
            _("The backslash (\\) is not allowed in a DICOM patient ID."), code="backslash"
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(
            _("Control characters (tabs, line breaks…) are not allowed in a DICOM patient ID."),
            code="control_character",
        )


def validate_not_in_future(value: datetime.date) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("The birth date cannot be in the future."), code="future")


def search_fold(text: str) -> str:
    """Text as the patient search compares it: upper case, accents removed (é → E)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    OTHER = "O", _("Other")


def _user_reference(verbose_name: Any) -> models.ForeignKey:
    """Who created or last changed a record; kept as NULL when that user is deleted."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class Patient(models.Model):
    """A patient record, linked to its images in Orthanc by ``external_id`` = DICOM PatientID."""

    external_id = models.CharField(
        _("external ID"),
        max_length=EXTERNAL_ID_MAX_LENGTH,
        unique=True,
        validators=[validate_dicom_long_string],
        help_text=_("The DICOM PatientID that links this record to its images."),
        error_messages={"unique": _("A patient with this external ID already exists.")},
    )
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    birth_date = models.DateField(
        _("birth date"), null=True, blank=True, validators=[validate_not_in_future]
    )
    sex = models.CharField(
        _("sex"), max_length=1, choices=Sex.choices, blank=True, help_text=_("Empty: unknown")
    )
    notes = models.TextField(_("notes"), blank=True)
    groups = models.ManyToManyField(
        Group,
        verbose_name=_("care groups"),
        related_name="patients",
        blank=True,
        help_text=_("The groups that care for this patient; their members see it."),
    )
    # external ID and names, folded by search_fold(); kept by save(). One column with one trigram
    # index (migration 0002) serves substring search at 100,000 patients, accents ignored.
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = _user_reference(_("created by"))
    updated_by = _user_reference(_("updated by"))

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["family_name", "given_name", "id"]
        # The portal's rights (accounts.rights) govern patients, not model permissions.
        default_permissions = ()
        indexes = [
            # The default list order, so a page is read from the index, not sorted.
            models.Index(fields=["family_name", "given_name", "id"], name="patient_name_order"),
            models.Index(fields=["birth_date", "id"], name="patient_birth_order"),
            models.Index(fields=["updated_at", "id"], name="patient_updated_order"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.external_id})"

    def save(self, *args, **kwargs) -> None:
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_text" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.external_id = (self.external_id or "").strip()
        self.family_name = (self.family_name or "").strip()
        self.given_name = (self.given_name or "").strip()

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()} {self.given_name}".strip()

    def build_search_text(self) -> str:
        return search_fold(f"{self.external_id} {self.family_name} {self.given_name}")
