"""The memory and CPU time of every process of a running stack, and of the whole machine, read
from /proc.

Each server of ``devtools.stack.Stack`` is the root of a process tree (Nginx's master and its
workers, each gunicorn master and its workers, PostgreSQL's postmaster, its helpers and one
backend per connection); each process is named by its server and its role. RSS is what the
issue asks for; the anonymous part is what a leak grows, as RSS also counts shared pages that
a process merely touches (PostgreSQL's shared buffers, a file Nginx sends). CPU time tells how
the two cores were shared between the stack, the load's own client and whatever else runs.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.bench_tools import children, rss_kib

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Memory:
    pid: int
    name: str
    rss_kib: int
    anon_kib: int
    cpu_seconds: float

    @property
    def transient(self) -> bool:
        """A PostgreSQL backend lives as long as its connection (CONN_MAX_AGE): its pid comes
        and goes, so it is compared as a group, not by pid."""
        return self.name.startswith("postgresql backend")


def _role(server: str, pid: int, root: bool) -> str:
    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    if server == "postgresql" and root:
        return "postgresql postmaster"
    if server == "postgresql":
        # "postgres: checkpointer", "postgres: postgres portal 127.0.0.1(40112) idle"
        words = command.removeprefix("postgres:").split()
        if any("(" in word for word in words):
            return f"postgresql backend to {words[1]}"
        return f"postgresql {' '.join(words)}"
    if server == "nginx":
        return (
            "nginx master"
            if root
            else command.replace("nginx: ", "nginx ").removesuffix(" process")
        )
    if server.startswith("web-"):
        return f"gunicorn {server} {'master' if root else 'worker'}"
    return server


def servers(stack: Any) -> list[tuple[str, subprocess.Popen | None]]:
    return [
        ("nginx", stack.nginx.process),
        *[(f"web-{n + 1}", process) for n, process in enumerate(stack.web)],
        ("follower", stack.follower),
        ("orthanc", stack.orthanc.process),
        ("postgresql", stack.postgres.process),
        ("redis", stack.redis.process),
    ]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU time every core of the machine spent busy since boot (not idle, not waiting)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / TICKS


@dataclass(frozen=True)
class Snapshot:
    """The stack's processes, this client's CPU time and the machine's, at one moment."""

    processes: list[Memory] = field(default_factory=list)
    client_cpu_seconds: float = 0.0
    machine_busy_seconds: float = 0.0


def snapshot(stack: Any) -> Snapshot:
    """Every live process of the stack's servers, in the order of ``servers``."""
    times = os.times()
    found: list[Memory] = []
    for server, process in servers(stack):
        if process is None or process.poll() is not None:
            continue
        pending = [(process.pid, True)]
        while pending:
            pid, root = pending.pop(0)
            try:
                found.append(
                    Memory(pid, _role(server, pid, root), rss_kib(pid), rss_kib(pid, "RssAnon"),
                           cpu_seconds(pid))
                )  # fmt: skip
                pending += [(child, False) for child in children(pid)]
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended between the listing and the reading
    return Snapshot(found, times.user + times.system, machine_busy_seconds())
