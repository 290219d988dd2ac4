"""The portal's rights, as ``app_label.codename`` permission names.

They are Django permissions attached to the ``accounts.Right`` content type (see models.py), so
they are granted through groups like any permission and checked with ``user.has_perm(...)``.
Keeping every right in one list lets the group form show them all as checkboxes and lets
tests name them.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VIEW_GROUP_PATIENTS = "accounts.view_group_patients"
VIEW_ALL_PATIENTS = "accounts.view_all_patients"
ADD_PATIENT = "accounts.add_patient"
CHANGE_PATIENT = "accounts.change_patient"
DELETE_PATIENT = "accounts.delete_patient"
VIEW_IMAGES = "accounts.view_images"
UPLOAD_DICOM = "accounts.upload_dicom"
MANAGE_USERS = "accounts.manage_users"
VIEW_AUDIT_LOG = "accounts.view_audit_log"

# (codename, label) in the order the group form shows them; Right.Meta.permissions uses it.
RIGHT_DEFINITIONS: list[tuple[str, str | Promise]] = [
    ("view_group_patients", _("View the patients of my groups")),
    ("view_all_patients", _("View all patients")),
    ("add_patient", _("Add patients")),
    ("change_patient", _("Change patients")),
    ("delete_patient", _("Delete patients")),
    ("view_images", _("View images")),
    ("upload_dicom", _("Upload DICOM files")),
    ("manage_users", _("Manage users and groups")),
    ("view_audit_log", _("View the audit log")),
]

ALL_RIGHTS = [f"accounts.{codename}" for codename, _label in RIGHT_DEFINITIONS]
