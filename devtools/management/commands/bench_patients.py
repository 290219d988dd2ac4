"""Benchmark of the patient list (page and API) at 1,000 and 100,000 patients.

Prints the median server time of each request kind at each size and the ratio between sizes.
Run by `make bench` against a throwaway PostgreSQL. The goal: under 50 ms per request, and no
more than 2x slower at 100,000 patients than at 1,000. Figures, not assertions: the machine is
shared, so compare the ratios of one run.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import rights
from accounts.models import User
from devtools.demo import synthetic_patients_seed
from patients.models import Patient

CARE_GROUPS = ["Bench cardiologie", "Bench radiologie", "Bench neurologie", "Bench pédiatrie"]


class Command(BaseCommand):
    help = "Time the patient list page and API at growing numbers of patients (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sizes", default="1000,100000", help="patient counts, ascending")
        parser.add_argument("--repeat", type=int, default=25, help="requests per figure")

    def handle(self, *args: Any, sizes: str, repeat: int, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL (run it with `make bench`).")
        counts = [int(s) for s in sizes.split(",")]
        viewer_all, member = self._users()
        clients = {"view all": self._clients(viewer_all), "group member": self._clients(member)}
        cases = [
            ("page", "/patients/", {}),
            ("page search", "/patients/", {"search": "dupont"}),
            ("page search 1", "/patients/", {"search": "SYN00000042"}),
            ("API", "/api/patients", {}),
            ("API search", "/api/patients", {"search": "dupont"}),
            ("API search 1", "/api/patients", {"search": "SYN00000042"}),
        ]
        results: dict[tuple[str, str], dict[int, float]] = {}
        groups = list(Group.objects.filter(name__in=CARE_GROUPS))
        for count in counts:
            missing = count - Patient.objects.count()
            if missing > 0:
                self.stdout.write(f"adding {missing} patients…")
                synthetic_patients_seed(count=missing, groups=groups)
            # As autovacuum would after a bulk load: fresh statistics and a set visibility map,
            # so the figures measure the queries, not the first reads of new rows.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE patients_patient")
                cursor.execute("VACUUM ANALYZE patients_patient_groups")
            for persona, (page_client, api_client) in clients.items():
                for name, url, params in cases:
                    client = api_client if name.startswith("API") else page_client
                    median = self._median_ms(client, url, params, repeat)
                    results.setdefault((persona, name), {})[count] = median
        self._report(results, counts)

    def _users(self) -> tuple[User, User]:
        view_all, _ = Group.objects.get_or_create(name="Bench direction")
        view_all.permissions.set(self._perms([rights.VIEW_ALL_PATIENTS]))
        for name in CARE_GROUPS:
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.set(self._perms([rights.VIEW_GROUP_PATIENTS]))
        viewer, _ = User.objects.get_or_create(email="bench-all@bench.invalid")
        viewer.groups.set([view_all])
        member, _ = User.objects.get_or_create(email="bench-member@bench.invalid")
        member.groups.set([Group.objects.get(name=CARE_GROUPS[0])])
        return viewer, member

    @staticmethod
    def _perms(names: list[str]):
        return Permission.objects.filter(
            content_type__app_label="accounts", codename__in=[n.split(".")[1] for n in names]
        )

    @staticmethod
    def _clients(user: User) -> tuple[Client, Client]:
        page = Client(HTTP_HOST="localhost")
        page.force_login(user)
        token = str(RefreshToken.for_user(user).access_token)
        api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
        return page, api

    @staticmethod
    def _median_ms(client: Client, url: str, params: dict, repeat: int) -> float:
        response = client.get(url, params)  # warm-up: connection, caches, plans
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(url, params)
            timings.append((time.perf_counter() - start) * 1000)
        return statistics.median(timings)

    def _report(self, results: dict, counts: list[int]) -> None:
        first, last = counts[0], counts[-1]
        header = f"{'who':<14}{'request':<15}" + "".join(f"{c:>12,} pts" for c in counts)
        self.stdout.write(
            "\nmedian server time per request, ms (goal < 50; ratio goal <= 2.0)\n"
            "search = a common family name (about 0.4% of patients, like Martin in France); "
            "search 1 = one patient's external ID"
        )
        self.stdout.write(header + f"{'ratio':>10}")
        for (persona, name), by_count in results.items():
            ratio = by_count[last] / by_count[first] if by_count[first] else float("nan")
            row = f"{persona:<14}{name:<15}" + "".join(f"{by_count[c]:>16.1f}" for c in counts)
            self.stdout.write(row + f"{ratio:>10.2f}")
