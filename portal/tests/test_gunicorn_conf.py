"""deploy/gunicorn.conf.py serves the portal with threaded workers and logs each request."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devtools.local_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_serves_the_portal_with_the_projects_configuration():
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
         "portal.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        status = None
        deadline = time.monotonic() + 30
        while status is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    status = r.status
            except urllib.error.HTTPError as answer:  # 503 without Orthanc: still served
                status = answer.code
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]

    assert status in (200, 503)
    assert "Using worker: gthread" in output
    assert '"GET /health HTTP/1.1"' in output  # the access log, on stdout
