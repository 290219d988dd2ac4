"""Benchmark of searches at archive scale (`make bench`).

One-instance studies are sent to a fresh Orthanc by C-STORE, as modalities send them (10 per
patient), first 1,000 then up to 20,000. At each size, in one run:
- QIDO ``/studies?limit=25`` median through the portal (gunicorn), for the admin and for a member
  who sees 1% of the patients, with and without ``PatientName=<prefix>*``, against Orthanc's own
  QIDO for the same query (goals: <= 30 ms, <= 1.5x the 1,000-study figure, <= 2x Orthanc);
- ``orthanc_sync --full`` of the whole archive (goal: under 60 s at 20,000);
then, with ``orthanc_sync --follow`` running, how long a study sent to Orthanc takes to appear
in the portal's search (goal: within 2 s).
"""

from __future__ import annotations

import base64
import datetime
import http.client
import io
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.test import override_settings
from django.utils import timezone
from pydicom import dcmread
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import rights
from accounts.models import User
from devtools.bench_tools import PortalProcess
from devtools.dicom_samples import one_instance_study
from devtools.local_server import AE_TITLE, LocalOrthanc, free_port
from orthanc_bridge.index import answers, sync
from orthanc_bridge.index.models import SyncState
from patients.models import Patient

STUDIES_PER_PATIENT = 10
SURNAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
]  # fmt: skip
PREFIX = "MART*"  # one surname in fifty, the one of the member's patients
ASSOCIATIONS = 4
FOLLOWER_SAMPLES = 3
# What OHIF's study list sends when it opens (its 101 newest studies).
OHIF_LIST = "limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060%2C00080090"
ONE_MINUTE = datetime.timedelta(minutes=1)
REPEAT = 30


def send_studies(orthanc: LocalOrthanc, first: int, count: int) -> None:
    """C-STORE ``count`` one-instance studies, numbered from ``first``, over a few associations
    at once (as several modalities would)."""
    raw = one_instance_study(patient_id="T").content
    errors: list[str] = []

    def send(numbers: range) -> None:
        template = dcmread(io.BytesIO(raw))
        ae = AE(ae_title="BENCHSCU")
        # This machine is shared: a store may wait behind someone else's work (30 s by default).
        ae.dimse_timeout = 180
        ae.acse_timeout = 60
        ae.add_requested_context(CTImageStorage)
        assoc = ae.associate("127.0.0.1", orthanc.dicom_port, ae_title=AE_TITLE)
        if not assoc.is_established:
            errors.append("Orthanc refused the association")
            return
        # pynetdicom writes a PDU in pieces: without this each store waits for a delayed ACK.
        connection = assoc.dul.socket
        if connection is not None and connection.socket is not None:
            connection.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for n in numbers:
                patient = n // STUDIES_PER_PATIENT
                template.PatientID = f"BENCH-{patient:06d}"
                template.PatientName = f"{SURNAMES[patient % len(SURNAMES)]}^Patient{patient}"
                template.StudyInstanceUID = generate_uid()
                template.SeriesInstanceUID = generate_uid()
                template.SOPInstanceUID = generate_uid()
                template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
                template.StudyDate = f"20{10 + n % 15:02d}{1 + n % 12:02d}{1 + n % 28:02d}"
                template.AccessionNumber = f"A{n:08d}"
                status = assoc.send_c_store(template)
                if getattr(status, "Status", -1) != 0:
                    errors.append(f"C-STORE of study {n} failed: {status}")
                    return
        finally:
            assoc.release()

    threads = [
        threading.Thread(target=send, args=(range(first + k, first + count, ASSOCIATIONS),))
        for k in range(min(ASSOCIATIONS, count))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])


def median_ms(port: int, path: str, authorization: str) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": authorization, "Accept": "application/dicom+json"}
    timings, count = [], 0
    for n in range(REPEAT + 2):
        start = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {body[:200]!r}")
        if n >= 2:  # two warm-up requests
            timings.append((time.perf_counter() - start) * 1000)
        count = len(json.loads(body))
    connection.close()
    return statistics.median(timings), count


class Command(BaseCommand):
    help = "Time QIDO from the study index against Orthanc's own, at 1,000 and 20,000 studies."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--small", type=int, default=1000)
        parser.add_argument("--large", type=int, default=20000)

    def handle(self, *args: Any, small: int, large: int, **options: Any) -> None:
        logging.getLogger("pynetdicom").setLevel(logging.WARNING)
        with tempfile.TemporaryDirectory() as tmp:
            orthanc = LocalOrthanc(
                Path(tmp) / "orthanc", free_port(), free_port(),
                modalities={"bench": ["BENCHSCU", "127.0.0.1", 11112]},
            ).start()  # fmt: skip
            try:
                with override_settings(ORTHANC_URL=orthanc.url, ORTHANC_PASSWORD=orthanc.password):
                    self._run(orthanc, small, large)
            finally:
                orthanc.stop()

    def _run(self, orthanc: LocalOrthanc, small: int, large: int) -> None:
        out = self.stdout.write
        basic = "Basic " + base64.b64encode(f"preview:{orthanc.password}".encode()).decode()
        figures: dict[int, dict[str, tuple[float, float, int]]] = {}
        sent = 0
        for size in (small, large):
            started = time.monotonic()
            send_studies(orthanc, sent, size - sent)
            out(f"\nSent {size - sent} studies by C-STORE in {time.monotonic() - started:.0f} s")
            sent = size
            admin, member = self._users(size // STUDIES_PER_PATIENT)
            started = time.monotonic()
            count = sync.rebuild()
            rebuild_seconds = time.monotonic() - started
            out(f"  orthanc_sync --full: {count} studies in {rebuild_seconds:.1f} s"
                + (" (goal < 60 s)" if size == large else ""))  # fmt: skip
            started = time.monotonic()
            while answers.fill_missing(limit=1000):
                pass
            out(f"  Orthanc's QIDO answers kept by the follower in the background: "
                f"{time.monotonic() - started:.1f} s")  # fmt: skip
            portal = PortalProcess(free_port(), orthanc.environment())
            try:
                figures[size] = {}
                for who, token in (("admin", admin), ("member 1%", member)):
                    for query in ("limit=25", f"limit=25&PatientName={PREFIX}", OHIF_LIST):
                        path = f"/dicom-web/studies?{query}"
                        through, found = median_ms(portal.port, path, f"Bearer {token}")
                        direct, _n = median_ms(orthanc.http_port, path, basic)
                        label = "OHIF's list (101)" if query == OHIF_LIST else query
                        figures[size][f"{who:9} {label:27}"] = (through, direct, found)
            finally:
                portal.stop()
        out("\nQIDO /studies median (ms) through the portal, and against Orthanc's own QIDO")
        for key, (through, direct, found) in figures[large].items():
            at_small = figures[small][key][0]
            out(
                f"  {key} {large:>6}: {through:6.1f} ms ({found:3} found; goal <= 30)   "
                f"{small}: {at_small:5.1f} ms  ratio {through / at_small:.2f} (goal <= 1.5)   "
                f"Orthanc {direct:6.1f} ms  ratio {through / direct:.2f} (goal <= 2)"
            )
        out(f"  follower: a study sent by C-STORE is found by a search after (median of 3) "
            f"{self._follower_seconds(orthanc, sent):.2f} s (goal <= 2 s)")  # fmt: skip

    def _follower_seconds(self, orthanc: LocalOrthanc, sent: int) -> float:
        """The median of three studies (of three new patients), each sent alone."""
        admin, _member = self._users(sent // STUDIES_PER_PATIENT + FOLLOWER_SAMPLES)
        follower = subprocess.Popen(
            [sys.executable, "manage.py", "orthanc_sync", "--follow"],
            env={**os.environ, **orthanc.environment(), "PORTAL_ENV": "development"},
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
        )
        portal = PortalProcess(free_port(), orthanc.environment())
        try:
            launched = timezone.now()
            while not SyncState.objects.filter(followed_at__gt=launched).exists():
                if follower.poll() is not None or timezone.now() - launched > ONE_MINUTE:
                    raise RuntimeError("the follower did not start")
                time.sleep(0.1)  # until the follower has made its first round
            samples = []
            for k in range(FOLLOWER_SAMPLES):
                number = sent + k * STUDIES_PER_PATIENT
                patient = f"BENCH-{number // STUDIES_PER_PATIENT:06d}"
                path = f"/dicom-web/studies?PatientID={patient}&limit=25"
                send_studies(orthanc, number, 1)
                samples.append(self._seconds_until_found(portal.port, path, admin))
            return statistics.median(samples)
        finally:
            portal.stop()
            follower.terminate()
            follower.wait(timeout=30)

    @staticmethod
    def _seconds_until_found(port: int, path: str, token: str) -> float:
        started = time.monotonic()  # Orthanc has the study: from here on it is the portal's time
        while time.monotonic() - started < 30:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            if json.loads(connection.getresponse().read()):
                return time.monotonic() - started
            time.sleep(0.05)
        return float("inf")

    @staticmethod
    def _users(patients: int) -> tuple[str, str]:
        """Patient records for every PatientID sent (linked to their studies by the next
        rebuild, or by the follower), an admin, and a member of a group caring for one patient
        in a hundred; their access tokens."""
        existing = set(Patient.objects.values_list("external_id", flat=True))
        Patient.objects.bulk_create(
            [
                Patient(external_id=f"BENCH-{n:06d}", family_name=SURNAMES[n % len(SURNAMES)])
                for n in range(patients)
                if f"BENCH-{n:06d}" not in existing
            ],
            batch_size=2000,
        )
        # Only this benchmark's patients (bench_upload and bench_dicomweb add BENCH-CT, BENCH-WEB).
        bench_patients = Patient.objects.filter(external_id__regex=r"^BENCH-[0-9]{6}$")
        team, _ = Group.objects.get_or_create(name="Bench QIDO team")
        team.permissions.set(
            Permission.objects.filter(
                content_type__app_label="accounts",
                codename__in=["view_group_patients", "view_images"],
            )
        )
        cared = [p for p in bench_patients if int(p.external_id[6:]) % 100 == 0]
        team.patients.add(*cared)
        everything, _ = Group.objects.get_or_create(name="Bench QIDO admin")
        everything.permissions.set(
            Permission.objects.filter(
                content_type__app_label="accounts",
                codename__in=[rights.VIEW_ALL_PATIENTS.split(".")[1], "view_images"],
            )
        )
        tokens = []
        for email, group in (("admin@bench.invalid", everything), ("member@bench.invalid", team)):
            user, _ = User.objects.get_or_create(email=email)
            user.groups.set([group])
            tokens.append(str(RefreshToken.for_user(user).access_token))
        return tokens[0], tokens[1]
