from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    PATIENT_CREATE = "patient.create", _("Patient created")
    PATIENT_UPDATE = "patient.update", _("Patient changed")
    PATIENT_DELETE = "patient.delete", _("Patient deleted")
    USER_CREATE = "user.create", _("User created")
    USER_UPDATE = "user.update", _("User changed")
    USER_PASSWORD = "user.password", _("User password set")
    USER_DELETE = "user.delete", _("User deleted")
    GROUP_CREATE = "group.create", _("Group created")
    GROUP_UPDATE = "group.update", _("Group changed")
    GROUP_DELETE = "group.delete", _("Group deleted")
    DICOM_UPLOAD = "dicom.upload", _("DICOM uploaded")
    STUDY_DOWNLOAD = "study.download", _("Study downloaded")
    IMAGES_VIEW = "images.view", _("Images viewed")
    DICOM_STOW = "dicom.stow", _("DICOM stored by DICOMweb")
    SHARE_CREATE = "share.create", _("Share link created")
    SHARE_REVOKE = "share.revoke", _("Share link revoked")
    SHARE_OPEN = "share.open", _("Share link opened")
    SHARE_VIEW = "share.view", _("Images viewed through a share link")
    SHARE_DOWNLOAD = "share.download", _("Study downloaded through a share link")
    LOGIN = "user.login", _("Logged in")
    LOGIN_FAILED = "user.login_failed", _("Login failed")


class AuditEvent(models.Model):
    """One thing someone did. Append-only: PostgreSQL refuses UPDATE and DELETE on this table.

    The actor and the patient are kept as plain ids plus a readable copy, not foreign keys: an
    event must outlive the user or patient it names, and must never be rewritten when they go.
    """

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True, db_index=True)
    actor_email = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True, blank=True, db_index=True)
    patient_external_id = models.CharField(_("patient external id"), max_length=64, blank=True)
    changes = models.JSONField(_("summary of the change"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_email} {self.action} {self.object_repr}"

    def actor_label(self) -> str:
        """Who did it: the user, the visitor holding a share link, or "—" (the system)."""
        if self.actor_email:
            return self.actor_email
        if self.object_type == "sharelink":
            return _("visitor with link #%(link)s") % {"link": self.object_id}
        return "—"

    def change_lines(self) -> list[tuple[str, str, str]]:
        """``(field, before, after)`` for display, lists joined, empty values left out."""

        def show(value) -> str:
            if value is None:
                return ""
            if isinstance(value, list):
                return ", ".join(str(v) for v in value)
            return str(value)

        lines = []
        for field, values in sorted(self.changes.items()):
            before, after = (
                values if isinstance(values, list) and len(values) == 2 else (None, values)
            )
            if show(before) or show(after):
                lines.append((field_label(self.object_type, field), show(before), show(after)))
        return lines


# What events write besides model fields (who opened a share link, from where).
EXTRA_FIELD_LABELS = {
    "address": _("address"),
    "user_agent": _("browser"),
    "study": _("study"),
}


def field_label(object_type: str, field: str) -> str:
    """A changed field by its name in the active language (the model's verbose name), or as
    stored when the model or the field is gone."""
    if field in EXTRA_FIELD_LABELS:
        return str(EXTRA_FIELD_LABELS[field])
    for model in apps.get_models():
        if model._meta.model_name == object_type:
            try:
                return str(getattr(model._meta.get_field(field), "verbose_name", field))
            except FieldDoesNotExist:
                break
    return field
