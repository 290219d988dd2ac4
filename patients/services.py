"""Writes on patients: each checks the actor's rights, validates, audits, in one transaction."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import rights
from audit.models import Action
from audit.services import audit_record, changes_between
from patients.models import Patient
from patients.selectors import assignable_groups_for, patient_visible_queryset

EDITABLE_FIELDS = ["external_id", "family_name", "given_name", "birth_date", "sex", "notes"]


def patient_snapshot(patient: Patient, groups: Iterable[Group] | None = None) -> dict[str, Any]:
    data = {field: getattr(patient, field) for field in EDITABLE_FIELDS}
    data["groups"] = sorted(
        g.name for g in (groups if groups is not None else patient.groups.all())
    )
    return data


def _require(actor, right: str) -> None:
    if not actor.has_perm(right):
        raise PermissionDenied(_("You do not have the right to do this."))


def _require_visible(actor, patient: Patient) -> None:
    if not patient_visible_queryset(user=actor).filter(pk=patient.pk).exists():
        raise PermissionDenied(_("You do not have the right to do this."))


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
    _require(actor, rights.ADD_PATIENT)
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
    _require(actor, rights.CHANGE_PATIENT)
    _require_visible(actor, patient)
    unknown = set(fields) - {*EDITABLE_FIELDS, "groups"}
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    before = patient_snapshot(patient)
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
    _require(actor, rights.DELETE_PATIENT)
    _require_visible(actor, patient)
    audit_record(
        actor=actor,
        action=Action.PATIENT_DELETE,
        obj=patient,
        patient=patient,
        changes=changes_between(patient_snapshot(patient), {}),
    )
    patient.delete()


# --- Demo data --------------------------------------------------------------------------------

DEMO_PATIENT_EXTERNAL_ID = "patient_test_poc"

_FAMILY_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet",
]  # fmt: skip
# Syllables for rarer family names: real lists are long-tailed, with few very common names.
_SYLLABLES_START = [
    "Bel", "Char", "Del", "Fon", "Gau", "Her", "Jou", "Lan", "Mar", "Nor", "Pel", "Quen", "Ros",
    "Sau", "Tel", "Val", "Ver", "Bou", "Cha", "Gre", "Lef", "Mon", "Per", "Ri", "Ther",
]  # fmt: skip
_SYLLABLES_END = [
    "lier", "mont", "court", "ville", "nier", "tier", "reau", "chet", "don", "gnac", "lard",
    "mas", "quet", "rand", "sson", "teau", "vin", "zac", "bert", "geot", "laud", "nay",
]  # fmt: skip
_GIVEN_NAMES = [
    "Jean", "Marie", "Pierre", "Camille", "Louis", "Léa", "Paul", "Chloé", "Hugo", "Manon",
    "Jules", "Emma", "Lucas", "Inès", "Nathan", "Sarah", "Gabriel", "Louise", "Arthur", "Zoé",
]  # fmt: skip


@transaction.atomic
def demo_patient_seed(*, group: Group) -> bool:
    """Create Patient POC in ``group`` if missing. Returns whether it was created."""
    if Patient.objects.filter(external_id=DEMO_PATIENT_EXTERNAL_ID).exists():
        return False
    patient = Patient.objects.create(
        external_id=DEMO_PATIENT_EXTERNAL_ID, family_name="Patient", given_name="POC"
    )
    patient.groups.add(group)
    return True


def synthetic_patients_seed(*, count: int, groups: list[Group], batch_size: int = 5000) -> int:
    """Add ``count`` synthetic patients spread over ``groups``, for trying the list at scale.

    Bulk inserts without audit events: this is generated test data, not a clinical action.
    """
    rng = random.Random(count)  # noqa: S311 - reproducible fake data, not a secret
    start = Patient.objects.filter(external_id__startswith="SYN").count()
    Through = Patient.groups.through
    created = 0
    while created < count:
        size = min(batch_size, count - created)
        with transaction.atomic():
            batch = [
                Patient(
                    external_id=f"SYN{start + created + i:08d}",
                    family_name=(
                        rng.choice(_FAMILY_NAMES)
                        if rng.random() < 0.1
                        else rng.choice(_SYLLABLES_START)
                        + rng.choice(_SYLLABLES_END)
                        + rng.choice(["", "", "-" + rng.choice(_SYLLABLES_START) + "ier"])
                    ),
                    given_name=rng.choice(_GIVEN_NAMES),
                    birth_date=datetime.date(1930, 1, 1)
                    + datetime.timedelta(days=rng.randrange(0, 33000)),
                    sex=rng.choice("MFO "),
                )
                for i in range(size)
            ]
            for patient in batch:
                patient.sex = patient.sex.strip()
                patient.search_text = patient.build_search_text()  # bulk_create skips save()
            Patient.objects.bulk_create(batch, batch_size=size)
            if groups:
                Through.objects.bulk_create(
                    [Through(patient_id=p.pk, group_id=rng.choice(groups).pk) for p in batch],
                    batch_size=size,
                )
        created += size
    return created
