"""Benchmark of the production stack's image path (`make bench`), through its Nginx, in one run.

Three paths to the same 200-instance 512x512 CT, all over HTTPS on the same Nginx:
- seed: Nginx straight to Orthanc with the credentials injected and nobody checked — what the
  product replaces; a server block added for this benchmark only, never deployed;
- stack: the deployed configuration, WADO bytes streamed by Nginx after the portal's decision;
- stack, DICOMWEB_BYTES_VIA=django: the same bytes through the portal's own DICOMweb view.
Goals (issue "Production stack"): whole study >= 0.95x the seed, 200 `/frames/1` over 6
keep-alive connections >= 0.9x, study metadata and QIDO within 10 ms of it.
"""

from __future__ import annotations

import http.client
import shutil
import ssl
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devtools.bench_tools import stack_context, stack_token, wait_indexed
from devtools.demo import DEMO_PATIENT_EXTERNAL_ID
from devtools.dicom_samples import ct_volume
from devtools.local_server import free_port
from devtools.management.commands.bench_dicomweb import (
    CONNECTIONS,
    Endpoint,
    frames_per_second,
    whole_study_seconds,
)
from devtools.stack import Stack
from orthanc_bridge.client import OrthancClient

SEED_SERVER = """
# make bench only: the seed's path, Nginx to Orthanc with the credentials and no check.
server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location /dicom-web/ {{
        proxy_pass http://orthanc;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Authorization "{authorization}";
        proxy_set_header Forwarded "host=$http_host;proto=$scheme";
        proxy_buffering on;
        proxy_buffers 32 64k;
        proxy_buffer_size 64k;
        proxy_busy_buffers_size 256k;
        proxy_max_temp_file_size 0;
    }}
}}
"""


class TlsEndpoint(Endpoint):
    def __init__(self, port: int, authorization: str, context: ssl.SSLContext) -> None:
        super().__init__(port, "/dicom-web", authorization)
        self.context = context

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=600, context=self.context
        )


def median_ms(endpoint: Endpoint, path: str, accept: str, repeat: int) -> float:
    connection = endpoint.connection()
    endpoint.get(connection, path, accept)  # warm: connection, decision, caches
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        endpoint.get(connection, path, accept)
        timings.append((time.perf_counter() - start) * 1000)
    connection.close()
    return statistics.median(timings)


class Command(BaseCommand):
    help = "Time the stack's image path through Nginx against the seed's (no check) path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instances", type=int, default=200)

    def handle(self, *args: Any, instances: int, **options: Any) -> None:
        directory = Path(tempfile.mkdtemp(prefix="preview-dicom-bench-stack-"))
        directory.chmod(0o711)  # PostgreSQL runs as its own user
        seed_port = free_port()
        stack = Stack(
            directory, https_port=free_port(), http_port=free_port(), dicom_port=free_port(),
            log=False,
        )  # fmt: skip
        try:
            stack.start()
            stack.nginx_extra = SEED_SERVER.format(
                port=seed_port,
                cert=stack.nginx.values["NGINX_CERT"],
                key=stack.nginx.values["NGINX_CERT_KEY"],
                authorization=stack.orthanc.authorization,
            )
            stack.restart_nginx("nginx")
            self._run(stack, seed_port, instances)
        finally:
            stack.stop()
            shutil.rmtree(directory, ignore_errors=True)

    def _run(self, stack: Stack, seed_port: int, count: int) -> None:
        context = stack_context(stack)
        orthanc = OrthancClient(stack.orthanc.url, "preview", stack.orthanc.password)
        study = ct_volume(patient_id=DEMO_PATIENT_EXTERNAL_ID, count=count)
        for instance in study:
            orthanc.store_instance(instance.content)
        total_mb = sum(len(i.content) for i in study) / 1e6
        uid = study[0].study_uid
        seed = TlsEndpoint(seed_port, "", context)
        stack_endpoint = TlsEndpoint(stack.https_port, f"Bearer {stack_token(stack)}", context)
        wait_indexed(stack, [uid], stack_endpoint.authorization)
        # Each path is measured in turn with the seed's, round after round, so both see the
        # same moment of this shared machine.
        seed_a, through_nginx = self._measure([seed, stack_endpoint], study, uid)
        stack.restart_nginx("django")
        seed_b, through_django = self._measure([seed, stack_endpoint], study, uid)
        self._report(
            {"seed": seed_a, "stack": through_nginx, "seed2": seed_b, "django": through_django},
            count,
            total_mb,
        )

    @staticmethod
    def _measure(endpoints: list[TlsEndpoint], study: list, uid: str) -> list[dict[str, Any]]:
        """Each figure taken for both paths round after round, in alternating order, so both
        see the same moments of this shared machine; ratios are the median of the rounds'."""
        for endpoint in endpoints:
            whole_study_seconds(endpoint, uid)  # warm: files in the page cache, the decision
        figures: list[dict[str, list[float]]] = [{} for _ in endpoints]
        tests = {
            "study": (12, lambda e: whole_study_seconds(e, uid)),
            "frames": (6, lambda e: frames_per_second(e, study)),
            "metadata": (
                5, lambda e: median_ms(e, f"/studies/{uid}/metadata", "application/dicom+json", 1)
            ),
            "qido": (5, lambda e: median_ms(e, "/studies?limit=25", "application/dicom+json", 9)),
        }  # fmt: skip
        for name, (rounds, measure) in tests.items():
            for round_ in range(rounds):
                pairs = list(zip(endpoints, figures, strict=True))
                for endpoint, mine in pairs if round_ % 2 == 0 else reversed(pairs):
                    mine.setdefault(name, []).append(measure(endpoint))
        return figures

    def _report(self, figures: dict[str, dict[str, list[float]]], count: int, mb: float) -> None:
        out = self.stdout.write
        median = statistics.median
        out(f"\nThe stack's image path through Nginx (HTTPS), {count}-instance 512x512 CT "
            f"({mb:.0f} MB), against the seed's unchecked Nginx -> Orthanc path; medians of "
            "rounds taken in turn")  # fmt: skip
        out(f"  {'path':<28}{'whole study':>14}{'/frames/1':>12}{'metadata':>11}{'QIDO':>9}")
        for name, label in (
            ("seed", "seed (no check)"),
            ("stack", "stack (bytes via nginx)"),
            ("seed2", "seed (no check), again"),
            ("django", "stack (bytes via django)"),
        ):
            f = figures[name]
            out(f"  {label:<28}{mb / median(f['study']):>9.0f} MB/s{median(f['frames']):>10.0f}/s"
                f"{median(f['metadata']):>8.1f} ms{median(f['qido']):>6.1f} ms")  # fmt: skip
        for name, seed in (("stack", figures["seed"]), ("django", figures["seed2"])):
            mine = figures[name]
            study = median(s / p for s, p in zip(seed["study"], mine["study"], strict=True))
            frames = median(p / s for s, p in zip(seed["frames"], mine["frames"], strict=True))
            metadata = median(
                p - s for s, p in zip(seed["metadata"], mine["metadata"], strict=True)
            )
            qido = median(p - s for s, p in zip(seed["qido"], mine["qido"], strict=True))
            out(f"  {name:<7} ratios: whole study {study:.2f} (goal >= 0.95)  frames "
                f"{frames:.2f} (goal >= 0.9, {CONNECTIONS} connections)  metadata "
                f"{metadata:+.1f} ms, QIDO {qido:+.1f} ms (goal: within 10 ms)")  # fmt: skip
