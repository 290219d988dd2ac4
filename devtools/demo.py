"""Demo data: the demo group, its administrator, Patient POC and synthetic patients.

Development and tests only (``devtools`` is not installed in production). The demo password is
public: production refuses to start while the demo account still has it (accounts.checks).
"""

from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.selectors import portal_rights
from patients.models import Patient

DEMO_GROUP_NAME = "Administrateurs"

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


@transaction.atomic
def demo_data_seed() -> dict[str, bool]:
    """Create the demo group, administrator and patient if missing; never change what exists.

    Returns which objects were created, for the command's report.
    """
    group, group_created = Group.objects.get_or_create(name=DEMO_GROUP_NAME)
    if group_created:
        group.permissions.set(portal_rights())

    admin = User.objects.filter(email__iexact=settings.DEMO_ADMIN_EMAIL).first()
    admin_created = admin is None
    if admin is None:
        admin = User.objects.create_superuser(
            settings.DEMO_ADMIN_EMAIL, settings.DEMO_ADMIN_PASSWORD, name="Administrateur"
        )
        admin.groups.add(group)
    return {
        "group": group_created,
        "admin": admin_created,
        "patient": demo_patient_seed(group=group),
    }
