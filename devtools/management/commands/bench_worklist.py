"""Benchmark of the worklist (/studies/ and GET /api/studies) at 100,000 studies (`make bench`).

The study index is filled directly (the worklist reads only the index; how the index follows
Orthanc is bench_qido's subject): 100,000 studies of 20,000 patients over ten years. Prints the
median server time of each request for an administrator (sees everything) and for a member who
sees 1% of the patients. Goal: under 50 ms. Figures, not assertions: the machine is shared.
"""

from __future__ import annotations

import datetime
import statistics
import time
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from orthanc_bridge.index.models import IndexedStudy
from patients.models import Patient, search_fold

SURNAMES = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
            "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA",
            "DUPRÉ"]  # fmt: skip
MODALITIES = [" CT ", " MR ", " US ", " CR ", " DX ", " MG ", " PT CT ", " NM "]
DESCRIPTIONS = ["Scanner thoracique", "IRM cérébrale", "Échographie abdominale", "Radio thorax",
                "Mammographie", "TEP-TDM corps entier", "Scintigraphie osseuse"]  # fmt: skip
PATIENTS_PER_STUDY = 5


class Command(BaseCommand):
    help = "Time the worklist page and API at 100,000 indexed studies (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--studies", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=20)

    def handle(self, *args: Any, studies: int, repeat: int, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL (run it with `make bench`).")
        admin, member = self._users()
        self._fill(studies, member.groups.get())
        today = timezone.localdate()
        cases = [
            ("page, newest first", "/studies/", {}),
            ("page, today", "/studies/", {"period": "today"}),
            ("page, patient name", "/studies/", {"q": "dupre"}),
            ("page, CT last 30 days", "/studies/", {"modality": "CT", "period": "30d"}),
            ("page, description word", "/studies/", {"description": "thoracique"}),
            ("page, accession", "/studies/", {"accession": "ACC00004242"}),
            ("API, newest first", "/api/studies", {}),
            ("API, name + range", "/api/studies", {
                "q": "martin", "date_from": (today - datetime.timedelta(days=365)).isoformat()}),
        ]  # fmt: skip
        self.stdout.write(
            f"\nWorklist at {IndexedStudy.objects.count():,} indexed studies: median server "
            f"time per request, ms (goal < 50)"
        )
        self.stdout.write(f"  {'request':<28}{'view all':>10}{'member (1%)':>14}")
        for label, path, query in cases:
            figures = [self._median(user, path, query, repeat) for user in (admin, member)]
            self.stdout.write(f"  {label:<28}{figures[0]:>10.1f}{figures[1]:>14.1f}")

    @staticmethod
    def _median(user: User, path: str, query: dict, repeat: int) -> float:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        client.get(path, query)  # warm
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            answer = client.get(path, query)
            timings.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise CommandError(f"{path} {query}: HTTP {answer.status_code}")
        return statistics.median(timings)

    @staticmethod
    def _users() -> tuple[User, User]:
        def group(name: str, codenames: list[str]) -> Group:
            made, _ = Group.objects.get_or_create(name=name)
            rights = Permission.objects.filter(
                content_type__app_label="accounts", codename__in=codenames
            )
            made.permissions.set(rights)
            return made

        everything = group("Bench worklist admin", ["view_all_patients", "view_images"])
        team = group("Bench worklist team", ["view_group_patients", "view_images"])
        admin, _ = User.objects.get_or_create(email="bench-worklist-admin@bench.invalid")
        member, _ = User.objects.get_or_create(email="bench-worklist-member@bench.invalid")
        admin.groups.set([everything])
        member.groups.set([team])
        return admin, member

    def _fill(self, count: int, team: Group) -> None:
        existing = IndexedStudy.objects.filter(orthanc_id__startswith="bench-wl-").count()
        if existing >= count:
            return
        self.stdout.write(f"indexing {count - existing} synthetic studies…")
        patients = count // PATIENTS_PER_STUDY
        Patient.objects.bulk_create(
            [
                Patient(
                    external_id=f"WL{n:07d}",
                    family_name=SURNAMES[n % len(SURNAMES)].title(),
                    given_name=f"Patient{n}",
                    search_text=search_fold(f"WL{n:07d} {SURNAMES[n % len(SURNAMES)]} Patient{n}"),
                )
                for n in range(patients)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        by_id = dict(
            Patient.objects.filter(external_id__startswith="WL").values_list("external_id", "pk")
        )
        team.patients.add(*[by_id[f"WL{n:07d}"] for n in range(0, patients, 100)])
        today = timezone.localdate()
        batch: list[IndexedStudy] = []
        for n in range(existing, count):
            patient = n % patients
            surname = SURNAMES[patient % len(SURNAMES)]
            day = (today - datetime.timedelta(days=n % 3650)).strftime("%Y%m%d")
            description = DESCRIPTIONS[n % len(DESCRIPTIONS)]
            name = f"{surname}^Patient{patient}"
            batch.append(IndexedStudy(
                orthanc_id=f"bench-wl-{n:010d}", study_uid=f"1.2.826.0.1.3680043.9.{n}",
                dicom_patient_id=f"WL{patient:07d}", patient_id=by_id[f"WL{patient:07d}"],
                patient_name=name, patient_name_fold=search_fold(name), study_date=day,
                study_time=f"{8 + n % 10:02d}{n % 60:02d}00", accession_number=f"ACC{n:08d}",
                study_description=description, study_description_fold=search_fold(description),
                modalities=MODALITIES[n % len(MODALITIES)], series_count=3, instance_count=120,
            ))  # fmt: skip
            if len(batch) == 5000:
                IndexedStudy.objects.bulk_create(batch)
                batch = []
        IndexedStudy.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE orthanc_bridge_indexedstudy")
            cursor.execute("VACUUM ANALYZE patients_patient")
