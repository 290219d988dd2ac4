"""Who and what `make load` needs in its stack: care groups each seeing one patient, viewers in
them, staff seeing every load patient and a list of filler patients, and CT studies in Orthanc.

``people_seed`` runs inside the stack (``manage.py shell``, the stack's settings and database);
``stack_seed`` drives it from outside and stores the studies. Running it again reuses what
exists, so a stack shared with the tests can be seeded once more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from devtools.bench_tools import stack_token, wait_indexed
from devtools.dicom_samples import ct_volume
from orthanc_bridge.client import OrthancClient

PASSWORD = "Load-Password-42"  # noqa: S105 - throwaway accounts of a throwaway stack
VIEWER_RIGHTS = ["view_group_patients", "view_images"]
STAFF_RIGHTS = ["view_group_patients", "view_images", "add_patient", "change_patient"]
FILLER_SAMPLE = 200  # filler patients staff open at random


def people_seed(*, groups: int, viewers: int, staff: int, filler: int) -> dict[str, Any]:
    """Create (or reuse) the load's groups, users and patients; returns who is who as JSON data.

    Every user gets the same password hash, computed once: hashing each (PBKDF2, on purpose
    slow) would cost the seed a second per user.
    """
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.db import transaction

    from accounts.models import User
    from devtools.demo import synthetic_patients_seed
    from patients.models import Patient

    def group(name: str, codenames: list[str]) -> Group:
        found, _ = Group.objects.get_or_create(name=name)
        found.permissions.set(
            Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )
        return found

    def user(email: str, member_of: Group) -> str:
        found = User.objects.filter(email=email).first()
        if found is None:
            found = User.objects.create_user(email, None, name=email.split("@")[0])
            found.password = password_hash
            found.save(update_fields=["password"])
        found.groups.set([member_of])
        return email

    password_hash = make_password(PASSWORD)
    with transaction.atomic():
        staff_group = group("Load staff", STAFF_RIGHTS)
        care_groups, patients = [], []
        for number in range(1, groups + 1):
            care = group(f"Load care {number:02d}", VIEWER_RIGHTS)
            patient, _ = Patient.objects.get_or_create(
                external_id=f"LOAD-{number:03d}",
                defaults={"family_name": f"Charge{number:03d}", "given_name": "Load"},
            )
            patient.groups.set([care, staff_group])
            care_groups.append(care)
            patients.append({"pk": patient.pk, "external_id": patient.external_id})
        people = {
            "patients": patients,
            "viewers": [
                {"email": user(f"load-viewer-{n + 1:03d}@load.example", care_groups[n % groups]),
                 "patient": n % groups}
                for n in range(viewers)
            ],
            "staff": [user(f"load-staff-{n + 1:03d}@load.example", staff_group)
                      for n in range(staff)],
        }  # fmt: skip
    existing = Patient.objects.filter(external_id__startswith="SYN").count()
    if existing < filler:
        synthetic_patients_seed(count=filler - existing, groups=[staff_group])
    people["filler"] = list(
        Patient.objects.filter(external_id__startswith="SYN", groups=staff_group)
        .order_by("pk")
        .values_list("pk", flat=True)[:FILLER_SAMPLE]
    )
    return people


@dataclass
class Seeded:
    """What the personas work on: patients (pk, external_id, their studies' UIDs), users."""

    patients: list[dict[str, Any]]
    viewers: list[dict[str, Any]]
    staff: list[str]
    filler: list[int]
    size: int  # pixels per side of every frame
    studies: list[str] = field(default_factory=list)


def stack_seed(
    stack: Any,
    *,
    groups: int,
    viewers: int,
    staff: int,
    filler: int,
    studies: int,
    instances: int,
    size: int = 256,
) -> Seeded:
    """Seed the stack's people, store ``studies`` CT studies of ``instances`` slices in its
    Orthanc (spread over the care groups' patients) and wait until its index has them."""
    arguments = json.dumps({"groups": groups, "viewers": viewers, "staff": staff, "filler": filler})
    code = (
        "import json; from devtools.load.seed import people_seed; "
        f"print(json.dumps(people_seed(**json.loads({arguments!r}))))"
    )
    people = json.loads(stack.manage("shell", "-c", code).stdout.splitlines()[-1])
    seeded = Seeded(
        patients=people["patients"],
        viewers=people["viewers"],
        staff=people["staff"],
        filler=people["filler"],
        size=size,
    )
    orthanc = OrthancClient(stack.orthanc.url, "preview", stack.orthanc.password)
    for patient in seeded.patients:
        patient["studies"] = []
    for number in range(studies):
        patient = seeded.patients[number % groups]
        volume = ct_volume(patient_id=patient["external_id"], count=instances, size=size)
        for instance in volume:
            orthanc.store_instance(instance.content)
        patient["studies"].append(volume[0].study_uid)
        seeded.studies.append(volume[0].study_uid)
    wait_indexed(stack, seeded.studies, f"Bearer {stack_token(stack)}")
    return seeded
