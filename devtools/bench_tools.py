"""Helpers shared by the `make bench` commands and `make load`: a real portal process, its
memory, and a started stack's admin token and study index."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of ``pid`` in KiB; ``field="RssAnon"``: its private, anonymous part."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


class PeakSampler(threading.Thread):
    """Samples a process's resident memory every 10 ms; ``peak`` is the highest seen (KiB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def http_json(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - local server
        return json.loads(response.read() or b"null")


class PortalProcess:
    """gunicorn serving the portal on a free port, one worker (so its memory can be read)."""

    def __init__(self, port: int, env: dict[str, str], threads: int = 1) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        worker = ["--threads", str(threads)] if threads > 1 else []
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", "1", *worker,
             "--timeout", "600", "--log-level", "warning"],
            env={**os.environ, **env, "PORTAL_ENV": "development",
                 "ALLOWED_HOSTS": "127.0.0.1,localhost"},
            cwd=settings.BASE_DIR,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                http_json("GET", f"{self.base}/health")
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the portal did not start") from None
                time.sleep(0.2)
        self.worker_pid = children(self.process.pid)[0]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def stack_context(stack: Any) -> ssl.SSLContext:
    """TLS that trusts the stack's self-signed certificate (devtools.stack)."""
    return ssl.create_default_context(cafile=stack.directory / "tls" / "cert.pem")


def stack_token(stack: Any) -> str:
    """An API access token of the demo administrator (seed_demo), asked of the stack through
    its Nginx."""
    connection = http.client.HTTPSConnection(
        "127.0.0.1", stack.https_port, timeout=60, context=stack_context(stack)
    )
    body = json.dumps(
        {"email": settings.DEMO_ADMIN_EMAIL, "password": settings.DEMO_ADMIN_PASSWORD}
    )
    connection.request("POST", "/api/auth/login", body, {"Content-Type": "application/json"})
    answer = json.loads(connection.getresponse().read())
    connection.close()
    return answer["access"]


def wait_indexed(stack: Any, uids: list[str], authorization: str, timeout: float = 60) -> None:
    """Until QIDO through the stack finds every study of ``uids``: the follower indexes what was
    stored in Orthanc behind the portal's back, and searches need it."""
    deadline = time.monotonic() + timeout
    waiting = list(uids)
    while waiting:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", stack.https_port, timeout=60, context=stack_context(stack)
        )
        connection.request(
            "GET", f"/dicom-web/studies?StudyInstanceUID={waiting[0]}",
            headers={"Authorization": authorization},
        )  # fmt: skip
        if waiting[0] in connection.getresponse().read().decode():
            waiting.pop(0)
        elif time.monotonic() > deadline:
            raise RuntimeError(f"the follower did not index {len(waiting)} of the studies")
        else:
            time.sleep(0.25)
        connection.close()
