"""Writes on patients: each validates, audits, in one transaction.

The actor's rights on the patient were checked by patients.access before: every function here
receives an authorized actor and patient.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import rights
from audit.models import Action
from audit.services import audit_record, changes_between
from patients.models import Patient
from patients.selectors import assignable_groups_for

EDITABLE_FIELDS = ["external_id", "family_name", "given_name", "birth_date", "sex", "notes"]


def patient_snapshot(patient: Patient, groups: Iterable[Group] | None = None) -> dict[str, Any]:
    data = {field: getattr(patient, field) for field in EDITABLE_FIELDS}
    data["groups"] = sorted(
        g.name for g in (groups if groups is not None else patient.groups.all())
    )
    return data


def _resolve_groups(actor, patient: Patient | None, requested: Iterable[Group]) -> list[Group]:
    """The patient's groups after the change.

    A user who cannot view all patients may add or remove only groups they belong to; the
    patient's other groups are kept as they are, and at least one of the user's groups must
    remain, or the user would lose sight of the patient they just saved.
    """
    requested = list(requested)
    if actor.has_perm(rights.VIEW_ALL_PATIENTS):
        return requested
    mine = set(assignable_groups_for(user=actor).values_list("id", flat=True))
    foreign = [g.name for g in requested if g.id not in mine]
    if foreign:
        raise ValidationError(
            {"groups": _("You can only assign groups you belong to: %(groups)s.")
             % {"groups": ", ".join(sorted(foreign))}}
        )  # fmt: skip
    if not requested:
        raise ValidationError(
            {"groups": _("Choose at least one of your groups, or you could not see this patient.")}
        )
    kept = [g for g in patient.groups.all() if g.id not in mine] if patient else []
    return requested + kept


def _save(patient: Patient) -> None:
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        # Lost a race with another save of the same external ID.
        raise ValidationError(
            {"external_id": _("A patient with this external ID already exists.")}
        ) from exc


@transaction.atomic
def patient_create(
    *,
    actor,
    external_id: str,
    family_name: str,
    given_name: str = "",
    birth_date: datetime.date | None = None,
    sex: str = "",
    notes: str = "",
    groups: Iterable[Group] = (),
) -> Patient:
    final_groups = _resolve_groups(actor, None, groups)
    patient = Patient(
        external_id=(external_id or "").strip(),
        family_name=(family_name or "").strip(),
        given_name=(given_name or "").strip(),
        birth_date=birth_date,
        sex=sex or "",
        notes=notes or "",
        created_by=actor,
        updated_by=actor,
    )
    _save(patient)
    patient.groups.set(final_groups)
    audit_record(
        actor=actor,
        action=Action.PATIENT_CREATE,
        obj=patient,
        patient=patient,
        changes=changes_between({}, patient_snapshot(patient, final_groups)),
    )
    return patient


@transaction.atomic
def patient_update(*, actor, patient: Patient, **fields: Any) -> Patient:
    """Change the given fields (any of EDITABLE_FIELDS and ``groups``); others stay."""
    unknown = set(fields) - {*EDITABLE_FIELDS, "groups"}
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    # As stored, not as passed: a page's ModelForm has already set its values on ``patient``
    # while validating, and a snapshot of it would see no change to audit.
    before = patient_snapshot(Patient.objects.get(pk=patient.pk))
    final_groups = None
    if "groups" in fields:
        final_groups = _resolve_groups(actor, patient, fields.pop("groups"))
    for field, value in fields.items():
        if isinstance(value, str) and field != "notes":
            value = value.strip()
        setattr(patient, field, value if value is not None or field == "birth_date" else "")
    patient.updated_by = actor
    _save(patient)
    if final_groups is not None:
        patient.groups.set(final_groups)
    after = patient_snapshot(patient, final_groups)
    changes = changes_between(before, after)
    if changes:
        audit_record(
            actor=actor, action=Action.PATIENT_UPDATE, obj=patient, patient=patient, changes=changes
        )
    return patient


@transaction.atomic
def patient_delete(*, actor, patient: Patient) -> None:
    audit_record(
        actor=actor,
        action=Action.PATIENT_DELETE,
        obj=patient,
        patient=patient,
        changes=changes_between(patient_snapshot(patient), {}),
    )
    patient.delete()
