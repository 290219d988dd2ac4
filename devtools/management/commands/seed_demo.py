from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.demo import DEMO_GROUP_NAME, demo_data_seed, synthetic_patients_seed
from patients.models import Patient


class Command(BaseCommand):
    help = (
        "Create the demo group, administrator and patient if missing. Idempotent: never changes "
        "or resets what exists. --patients N adds N synthetic patients."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients",
            type=int,
            default=0,
            metavar="N",
            help="make sure N synthetic patients (SYN00000000…) exist, for trying the list at "
            "scale; only the missing ones are added",
        )

    def handle(self, *args: Any, patients: int, **options: Any) -> None:
        if settings.IS_PRODUCTION and not settings.ALLOW_DEMO_DATA:
            raise CommandError(
                "Refusing to create demo data in production: its password is public. "
                "Set ALLOW_DEMO_DATA=true for a demonstration instance."
            )
        if patients < 0:
            raise CommandError("--patients must be zero or more.")
        created = demo_data_seed()
        for what, was_created in created.items():
            self.stdout.write(f"{what}: {'created' if was_created else 'already present'}")
        missing = patients - Patient.objects.filter(external_id__startswith="SYN").count()
        if missing > 0:
            groups = list(Group.objects.filter(name=DEMO_GROUP_NAME))
            added = synthetic_patients_seed(count=missing, groups=groups)
            self.stdout.write(f"synthetic patients: {added} added")
