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
SHARE_IMAGES = "accounts.share_images"
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
    ("share_images", _("Share images by link")),
    ("manage_users", _("Manage users and groups")),
    ("view_audit_log", _("View the audit log")),
]

ALL_RIGHTS = [f"accounts.{codename}" for codename, _label in RIGHT_DEFINITIONS]

# How the group form shows the rights: by area, each with what it lets one do.
RIGHT_AREAS: list[tuple[str | Promise, list[tuple[str, str | Promise]]]] = [
    (_("Patients"), [
        ("view_group_patients", _("see and search the patients who share one of my groups")),
        ("view_all_patients", _("see every patient, and the studies no record claims")),
        ("add_patient", _("create patient records")),
        ("change_patient", _("change patient records and their care groups")),
        ("delete_patient", _("delete patient records (their images stay)")),
    ]),
    (_("Images"), [
        ("view_images", _("open studies in the viewer, see thumbnails, download zips")),
        ("upload_dicom", _("send DICOM files for a patient (page, API, STOW-RS)")),
        ("share_images", _("give someone without an account a time-limited link to one study")),
    ]),
    (_("Administration"), [
        ("manage_users", _("create and change users and groups, reset passwords")),
        ("view_audit_log", _("read and export the audit trail")),
    ]),
]  # fmt: skip
