"""`make load`: a stack of its own on free ports, seeded, loaded by simulated viewers and staff
(devtools.load), its figures printed; stopped and removed afterwards, on failure and Ctrl-C too.
The servers' logs are kept in var/load-logs/ (the last run's), to read what an error was.

Exits 1 when any request failed (an error status, a timeout, an answer a browser could not
use); latencies and memory are goals to read beside the figures, not a failure, since this
machine's two cores are shared.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.load import run_load
from devtools.local_server import free_port
from devtools.stack import Stack, StackError


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _keep_logs(directory: Path) -> None:
    """The servers' logs (not their data) to var/load-logs/, read after the stack is gone."""
    kept = Path(settings.BASE_DIR) / "var" / "load-logs"
    shutil.rmtree(kept, ignore_errors=True)
    for log in directory.glob("**/*.log"):
        if "data" not in log.relative_to(directory).parts:
            target = kept / log.relative_to(directory)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(log, target)


class Command(BaseCommand):
    help = "Simulated viewers and staff against a stack of its own; figures and goals."

    def add_arguments(self, parser: CommandParser) -> None:
        env = os.environ.get
        parser.add_argument("--seconds", type=float, default=float(env("LOAD_SECONDS") or 60))
        parser.add_argument("--warmup", type=float, default=10.0)
        parser.add_argument("--viewers", type=int, default=50)
        parser.add_argument("--staff", type=int, default=20)
        parser.add_argument("--groups", type=int, default=10, help="care groups, a patient each")
        parser.add_argument("--studies", type=int, default=15)
        parser.add_argument("--instances", type=int, default=6, help="CT slices per study")
        parser.add_argument("--filler", type=int, default=1000, help="patients in staff lists")
        parser.add_argument("--pace", type=float, default=1.0, help="2: think half as long")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(tempfile.mkdtemp(prefix="preview-dicom-load-"))
        directory.chmod(0o711)  # PostgreSQL runs as its own user
        stack = Stack(
            directory, https_port=free_port(), http_port=free_port(), dicom_port=free_port(),
            log=False,
        )  # fmt: skip
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGHUP, _stop)
        try:
            self.stderr.write(f"load: starting a stack in {directory}")
            stack.start()
            report = run_load(
                stack,
                write=self.stdout.write,
                **{name: options[name] for name in (
                    "viewers", "staff", "groups", "studies", "instances", "filler", "seconds",
                    "warmup", "pace",
                )},
            )  # fmt: skip
        except StackError as exc:
            raise CommandError(f"the stack did not start: {exc}") from exc
        except KeyboardInterrupt:
            self.stderr.write("load: interrupted; stopping the stack")
            sys.exit(130)
        finally:
            # A second Ctrl-C or SIGTERM must not cut the stopping short.
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)
            stack.stop()
            _keep_logs(directory)
            shutil.rmtree(directory, ignore_errors=True)
        if report.errors:
            self.stderr.write(f"load: {report.errors} requests failed; logs in var/load-logs/")
            sys.exit(1)
