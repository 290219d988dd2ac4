"""Benchmark of DICOM upload and of the studies panel, printed as figures (`make bench`).

- Upload throughput of a generated 200-instance CT series (about 100 MB) through the portal's API
  (gunicorn, batches of 20 files as the page sends them) versus straight to Orthanc, as a ratio
  in the same run (goal >= 0.8).
- Peak memory of the portal's worker during that upload, above its idle size (goal: flat,
  under 150 MB).
- The studies panel (read from the study index): first load and the median of the next 20.

It starts its own Orthanc (temp folder, free ports) and its own gunicorn on the configured
database, and stops both.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from devtools.bench_tools import PeakSampler, children, http_json, rss_kib
from devtools.dicom_samples import ct_volume
from devtools.local_server import LocalOrthanc, free_port
from orthanc_bridge.client import OrthancClient
from patients.models import Patient

BATCH = 20
PATIENT_ID = "BENCH-CT"


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, content in files:
        out.write(f"--{boundary}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'.encode())
        out.write(b"Content-Type: application/dicom\r\n\r\n")
        out.write(content)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Command(BaseCommand):
    help = "Time DICOM upload through the portal against Orthanc directly, and the studies panel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instances", type=int, default=200)
        parser.add_argument("--rounds", type=int, default=2)

    def handle(self, *args: Any, instances: int, rounds: int, **options: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            orthanc = LocalOrthanc(Path(tmp) / "orthanc", free_port(), free_port()).start()
            try:
                self._run(orthanc, Path(tmp), instances, rounds)
            finally:
                orthanc.stop()

    def _run(self, orthanc: LocalOrthanc, tmp: Path, count: int, rounds: int) -> None:
        client = OrthancClient(orthanc.url, "preview", orthanc.password)
        files = [(i.filename, i.content) for i in ct_volume(patient_id=PATIENT_ID, count=count)]
        total_mb = sum(len(c) for _, c in files) / 1e6
        patient, token = self._fixtures()
        port = free_port()
        env = {
            **os.environ,
            **orthanc.environment(),
            "PORTAL_ENV": "development",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "600",
             "--log-level", "warning"],
            env=env, cwd=settings.BASE_DIR,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            self._wait(base)
            worker = children(server.pid)[0]
            auth = {"Authorization": f"Bearer {token}"}
            http_json("GET", f"{base}/api/patients/{patient.pk}/studies", headers=auth)  # warm up
            idle_kib = rss_kib(worker)
            direct, portal, peak_kib = [], [], 0
            for _ in range(rounds):
                start = time.perf_counter()
                for _name, content in files:
                    client.store_instance(content)
                direct.append(time.perf_counter() - start)
                self._empty(client)

                sampler = PeakSampler(worker)
                sampler.start()
                start = time.perf_counter()
                for i in range(0, len(files), BATCH):
                    body, content_type = multipart(files[i : i + BATCH])
                    answer = http_json("POST", f"{base}/api/patients/{patient.pk}/dicom", body,
                                  {**auth, "Content-Type": content_type})  # fmt: skip
                    assert answer["stored"] == len(files[i : i + BATCH]), answer
                portal.append(time.perf_counter() - start)
                sampler.running = False
                sampler.join()
                peak_kib = max(peak_kib, sampler.peak)
                if _ < rounds - 1:
                    self._empty(client)

            # Studies panel: read from the study index, which the upload filled.
            studies_url = f"{base}/api/patients/{patient.pk}/studies"
            start = time.perf_counter()
            http_json("GET", studies_url, headers=auth)
            first_ms = (time.perf_counter() - start) * 1000
            cached = []
            for _ in range(20):
                start = time.perf_counter()
                http_json("GET", studies_url, headers=auth)
                cached.append((time.perf_counter() - start) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
            self._empty(client)

        best_direct, best_portal = min(direct), min(portal)
        self.stdout.write(f"\nupload of {count} CT instances ({total_mb:.0f} MB), best of {rounds}")
        self.stdout.write(
            f"  straight to Orthanc : {best_direct:6.2f} s  {total_mb / best_direct:6.1f} MB/s"
        )
        self.stdout.write(
            f"  through the portal  : {best_portal:6.2f} s  {total_mb / best_portal:6.1f} MB/s"
        )
        self.stdout.write(
            f"  ratio portal/direct : {best_direct / best_portal:6.2f}   (goal >= 0.8)"
        )
        self.stdout.write(
            f"  portal worker memory: idle {idle_kib / 1024:.0f} MB, "
            f"peak {peak_kib / 1024:.0f} MB, +{(peak_kib - idle_kib) / 1024:.0f} MB during the "
            "upload (goal < 150 MB)"
        )
        self.stdout.write(
            f"studies panel (API, {count} instances, from the study index): first load "
            f"{first_ms:.1f} ms, then {statistics.median(cached):.1f} ms (median of 20)"
        )

    def _fixtures(self) -> tuple[Patient, str]:
        group, _ = Group.objects.get_or_create(name="Bench upload")
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="accounts",
                codename__in=["view_all_patients", "view_images", "upload_dicom"],
            )
        )
        user, _ = User.objects.get_or_create(email="bench-upload@bench.invalid")
        user.groups.set([group])
        patient, _ = Patient.objects.get_or_create(
            external_id=PATIENT_ID, defaults={"family_name": "Bench"}
        )
        return patient, str(RefreshToken.for_user(user).access_token)

    @staticmethod
    def _empty(client: OrthancClient) -> None:
        for patient_id in client.get_json("/patients"):
            client.delete(f"/patients/{patient_id}")

    @staticmethod
    def _wait(base: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http_json("GET", f"{base}/health")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the portal did not start")
