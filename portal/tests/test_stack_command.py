"""`make stack`'s command (python -m devtools.stack): it says where the portal is once every
server answers, and SIGTERM (or Ctrl-C) stops every server it started."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devtools.local_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> dict[int, str]:
    """Every process under ``pid`` (children, theirs...), with its command line."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            commands[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = commands.get(child, "")
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_the_stack_prints_its_address_and_sigterm_stops_every_server():
    directory = Path(tempfile.mkdtemp(prefix="preview-dicom-stack-cli-"))
    directory.chmod(0o711)  # PostgreSQL runs as its own user
    https_port = free_port()
    command = [
        sys.executable, "-m", "devtools.stack", "--dir", str(directory),
        "--https-port", str(https_port), "--http-port", str(free_port()),
        "--dicom-port", str(free_port()), "--replicas", "1",
    ]  # fmt: skip
    stack = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        said = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = stack.stderr.readline()
            said.append(line)
            if "Preview DICOM on" in line or not line:
                break
        running = descendants(stack.pid)

        stack.send_signal(signal.SIGTERM)
        code = stack.wait(timeout=60)
        time.sleep(0.5)

        assert f"Preview DICOM on https://127.0.0.1:{https_port}/" in "".join(said)
        # PostgreSQL, Redis, Orthanc, Nginx, a web replica and the follower were running...
        for server in ("postgres", "redis-server", "Orthanc", "nginx", "gunicorn", "orthanc_sync"):
            assert any(server in command for command in running.values()), server
        # ...and none is left.
        assert [running[pid] for pid in running if alive(pid)] == []
        assert code == 128 + signal.SIGTERM
    finally:
        if stack.poll() is None:
            stack.kill()
        stack.stderr.close()
        shutil.rmtree(directory, ignore_errors=True)
