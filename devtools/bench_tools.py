"""Helpers shared by the `make bench` commands: a real portal process and its memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
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
