"""Share links: read-only access to one study for someone without an account.

A link is ``/s/<token>``: 256 random bits shown once, when it is made; only the token's SHA-256
is kept, so the table cannot be turned back into working links. A link grants one study of one
patient until it expires or is revoked (orthanc_bridge.shares.access).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import Patient

TOKEN_BYTES = 32


def token_new() -> tuple[str, str]:
    """A fresh token and the hash kept of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    # No salt is needed: the token is 256 random bits, not a password someone chose.
    return hashlib.sha256(token.encode()).hexdigest()


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def active(self) -> ShareLinkQuerySet:
        """Not revoked, not expired, and made by a user who is still active: deactivating or
        deleting a user ends their links."""
        return self.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now(), created_by__is_active=True
        )


class ShareLink(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        EXPIRED = "expired", _("expired")
        REVOKED = "revoked", _("revoked")

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    study_uid = models.CharField(_("study"), max_length=64, db_index=True)
    study_repr = models.CharField(_("study"), max_length=255, blank=True)
    # The patient the study belonged to when shared: the link stops working if it no longer
    # does (a study belongs to the patient whose external ID is its PatientID).
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("patient")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("shared by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    allow_download = models.BooleanField(_("zip download allowed"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    opened_count = models.PositiveIntegerField(_("times opened"), default=0)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.pk} {self.study_repr or self.study_uid}"

    @property
    def status(self) -> str:
        if self.revoked_at is not None or self.created_by is None or not self.created_by.is_active:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)
