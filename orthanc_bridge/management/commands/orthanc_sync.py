"""Keep the study index in step with Orthanc.

    python manage.py orthanc_sync            # apply the changes since the last run, once
    python manage.py orthanc_sync --full     # rebuild the index from the whole archive
    python manage.py orthanc_sync --follow   # the worker: follow Orthanc's changes until stopped

The follower polls ``/changes`` every ``--interval`` seconds, keeps Orthanc's QIDO answer of
studies that lack one (index.answers), and compares the list of studies every
``ORTHANC_SYNC_RECONCILE_SECONDS`` (Orthanc logs no change for a deletion). An Orthanc or a
database that does not answer is waited for, never a crash.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from orthanc_bridge.client import OrthancError
from orthanc_bridge.index import answers, sync
from orthanc_bridge.ingest.actions import flush_stale

FILL_PER_ROUND = 500  # Orthanc's answers kept per round, so new changes are never held up


class Command(BaseCommand):
    help = "Keep the portal's study index in step with Orthanc."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="rebuild the whole index")
        parser.add_argument("--follow", action="store_true", help="follow changes until stopped")
        parser.add_argument("--interval", type=float, default=0.25, help="seconds between polls")

    def handle(self, *args, full: bool, follow: bool, interval: float, **options) -> None:
        try:
            if full:
                started = time.monotonic()
                count = sync.rebuild()
                self.stdout.write(f"Indexed {count} studies in {time.monotonic() - started:.1f} s.")
            elif not follow:
                self.stdout.write(f"Read {sync.follow_once()} studies again.")
        except (OrthancError, DatabaseError) as exc:
            raise CommandError(f"The index could not be brought up to date: {exc}") from exc
        if follow:
            self._follow(interval)

    def _follow(self, interval: float) -> None:
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stopping.append(True))
        self.stdout.write(f"Following Orthanc's changes every {interval:g} s.")
        reconciled = 0.0
        failing = False
        flushed = 0.0  # uploads whose page stopped sending: written with this period too
        while not stopping:
            try:
                close_old_connections()
                if time.monotonic() - flushed > settings.ORTHANC_SYNC_RECONCILE_SECONDS:
                    flush_stale()  # needs only the database, so before any call to Orthanc
                    flushed = time.monotonic()
                sync.follow_once()
                answers.fill_missing(limit=FILL_PER_ROUND)
                if time.monotonic() - reconciled > settings.ORTHANC_SYNC_RECONCILE_SECONDS:
                    sync.reconcile()
                    reconciled = time.monotonic()
                if failing:
                    self.stdout.write("Orthanc and the database answer again.")
                failing = False
            except (OrthancError, DatabaseError) as exc:
                if not failing:
                    self.stderr.write(f"Waiting: {exc}")
                failing = True
            time.sleep(interval if not failing else max(interval, 2.0))
        self.stdout.write("Stopped.")
