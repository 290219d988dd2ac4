from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import demo_data_seed


class Command(BaseCommand):
    help = (
        "Create the demo group, administrator and patient if missing. Idempotent: never changes "
        "or resets what exists."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION and not settings.ALLOW_DEMO_DATA:
            raise CommandError(
                "Refusing to create demo data in production: its password is public. "
                "Set ALLOW_DEMO_DATA=true for a demonstration instance."
            )
        created = demo_data_seed()
        for what, was_created in created.items():
            self.stdout.write(f"{what}: {'created' if was_created else 'already present'}")
