from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections


class Command(BaseCommand):
    help = "Wait until the database accepts connections, for at most --timeout seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, timeout: float, database: str, **options: Any) -> None:
        connection = connections[database]
        where = connection.settings_dict.get("HOST") or connection.settings_dict.get("NAME")
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            try:
                connection.ensure_connection()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                self.stdout.write(f"Database {where} is ready.")
                return
            except DatabaseError as exc:
                last_error = exc
                connection.close()
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"Database {where} did not accept connections within {timeout:g} s: "
                    f"{str(last_error).strip()}"
                )
            time.sleep(0.5)
