"""Benchmark of DICOMweb through the portal against Orthanc directly (`make bench`).

On a generated study of 512x512 16-bit CT instances, in one run:
- whole-study WADO-RS through the portal vs straight from Orthanc (goal >= 0.5x);
- one `/frames/1` per instance over 6 keep-alive connections, portal vs straight (goal >= 0.5x);
- QIDO `/studies` median latency, portal vs straight (goal: under 15 ms more);
- the serving process's peak memory while streaming a 500-instance study against a 10-instance
  one (goal: no more than 50 MB higher), which shows whether bodies are streamed.
"""

from __future__ import annotations

import base64
import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from devtools.bench_tools import PeakSampler, PortalProcess, rss_kib
from devtools.dicom_samples import SampleInstance, ct_volume
from devtools.local_server import LocalOrthanc, free_port
from orthanc_bridge.client import OrthancClient
from orthanc_bridge.index import sync
from patients.models import Patient

WHOLE_STUDY = 'multipart/related; type="application/dicom"'
FRAME = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
CONNECTIONS = 6


class Endpoint:
    """Where to send requests and with which credentials: the portal or Orthanc itself."""

    def __init__(self, port: int, prefix: str, authorization: str) -> None:
        self.port, self.prefix, self.authorization = port, prefix, authorization

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def get(self, connection: http.client.HTTPConnection, path: str, accept: str) -> int:
        connection.request(
            "GET",
            self.prefix + path,
            headers={"Authorization": self.authorization, "Accept": accept},
        )
        response = connection.getresponse()
        size = 0
        while chunk := response.read(1024 * 1024):
            size += len(chunk)
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        return size


def whole_study_seconds(endpoint: Endpoint, study_uid: str) -> float:
    connection = endpoint.connection()
    start = time.perf_counter()
    endpoint.get(connection, f"/studies/{study_uid}", WHOLE_STUDY)
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def frames_per_second(endpoint: Endpoint, instances: list[SampleInstance]) -> float:
    paths = [
        f"/studies/{i.study_uid}/series/{i.series_uid}/instances/{i.sop_uid}/frames/1"
        for i in instances
    ]
    chunks = [paths[n::CONNECTIONS] for n in range(CONNECTIONS)]
    errors: list[Exception] = []

    def worker(my_paths: list[str]) -> None:
        connection = endpoint.connection()  # one keep-alive connection per worker
        try:
            for path in my_paths:
                endpoint.get(connection, path, FRAME)
        except (OSError, RuntimeError, http.client.HTTPException) as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"frame requests failed: {errors[0]}")
    return len(paths) / elapsed


def qido_median_ms(endpoint: Endpoint, repeat: int = 30) -> float:
    connection = endpoint.connection()
    endpoint.get(connection, "/studies", "application/dicom+json")
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        endpoint.get(connection, "/studies", "application/dicom+json")
        timings.append((time.perf_counter() - start) * 1000)
    connection.close()
    return statistics.median(timings)


class Command(BaseCommand):
    help = "Time DICOMweb through the portal against Orthanc directly, and its memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instances", type=int, default=200)
        parser.add_argument("--big", type=int, default=500, help="instances of the memory study")

    def handle(self, *args: Any, instances: int, big: int, **options: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            orthanc = LocalOrthanc(Path(tmp) / "orthanc", free_port(), free_port()).start()
            try:
                with override_settings(ORTHANC_URL=orthanc.url, ORTHANC_PASSWORD=orthanc.password):
                    self._run(orthanc, instances, big)
            finally:
                orthanc.stop()

    def _run(self, orthanc: LocalOrthanc, count: int, big: int) -> None:
        client = OrthancClient(orthanc.url, "preview", orthanc.password)
        token = self._user_token()
        study = ct_volume(patient_id="BENCH-WEB", count=count)
        small = ct_volume(patient_id="BENCH-WEB", count=10)
        large = ct_volume(patient_id="BENCH-WEB", count=big)
        for instance in study + small + large:
            client.store_instance(instance.content)
        sync.rebuild()  # stored behind the portal's back: indexed as the follower would
        basic = base64.b64encode(f"preview:{orthanc.password}".encode()).decode()
        direct = Endpoint(orthanc.http_port, "/dicom-web", f"Basic {basic}")
        portal_process = PortalProcess(free_port(), orthanc.environment(), threads=CONNECTIONS)
        try:
            portal = Endpoint(portal_process.port, "/dicom-web", f"Bearer {token}")
            total_mb = sum(len(i.content) for i in study) / 1e6
            uid = study[0].study_uid
            # Warm both paths (file cache, connections, the portal's access decision).
            whole_study_seconds(direct, uid), whole_study_seconds(portal, uid)
            study_direct = min(whole_study_seconds(direct, uid) for _ in range(2))
            study_portal = min(whole_study_seconds(portal, uid) for _ in range(2))
            frames_direct = max(frames_per_second(direct, study) for _ in range(2))
            frames_portal = max(frames_per_second(portal, study) for _ in range(2))
            qido_direct, qido_portal = qido_median_ms(direct), qido_median_ms(portal)
            memory = {}
            for name, sample in (("small", small), ("large", large)):
                whole_study_seconds(portal, sample[0].study_uid)  # warm
                idle = rss_kib(portal_process.worker_pid)
                sampler = PeakSampler(portal_process.worker_pid)
                sampler.start()
                whole_study_seconds(portal, sample[0].study_uid)
                memory[name] = (idle, sampler.stop())
        finally:
            portal_process.stop()
        out = self.stdout.write
        out(f"\nDICOMweb on a {count}-instance 512x512 CT study ({total_mb:.0f} MB)")
        out(
            f"  whole study  direct {total_mb / study_direct:7.0f} MB/s   portal "
            f"{total_mb / study_portal:7.0f} MB/s   "
            f"ratio {study_direct / study_portal:.2f} (goal >= 0.5)"
        )
        out(
            f"  /frames/1    direct {frames_direct:7.0f} /s     portal {frames_portal:7.0f} /s     "
            f"ratio {frames_portal / frames_direct:.2f} (goal >= 0.5, {CONNECTIONS} connections)"
        )
        out(
            f"  QIDO median  direct {qido_direct:7.1f} ms    portal {qido_portal:7.1f} ms    "
            f"overhead {qido_portal - qido_direct:.1f} ms (goal < 15 ms)"
        )
        (s_idle, s_peak), (l_idle, l_peak) = memory["small"], memory["large"]
        out(f"  portal memory while streaming: 10 instances peak {s_peak / 1024:.0f} MB "
            f"(+{(s_peak - s_idle) / 1024:.0f}), {big} instances peak {l_peak / 1024:.0f} MB "
            f"(+{(l_peak - l_idle) / 1024:.0f}); difference {(l_peak - s_peak) / 1024:.0f} MB "
            "(goal <= 50 MB)")  # fmt: skip

    @staticmethod
    def _user_token() -> str:
        group, _ = Group.objects.get_or_create(name="Bench DICOMweb")
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="accounts",
                codename__in=["view_group_patients", "view_images"],
            )
        )
        user, _ = User.objects.get_or_create(email="bench-dicomweb@bench.invalid")
        user.groups.set([group])
        patient, _ = Patient.objects.get_or_create(
            external_id="BENCH-WEB", defaults={"family_name": "Bench"}
        )
        patient.groups.add(group)
        return str(RefreshToken.for_user(user).access_token)
