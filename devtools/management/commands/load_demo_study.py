from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from devtools.demo import DEMO_PATIENT_EXTERNAL_ID
from devtools.dicom_samples import demo_study
from orthanc_bridge.client import OrthancError, get_client


class Command(BaseCommand):
    help = (
        "Load a small demo study for Patient POC into Orthanc, the first time only "
        "(generated from pydicom's bundled test files, with fresh UIDs, dated now)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        try:
            if client.find_studies({"PatientID": DEMO_PATIENT_EXTERNAL_ID}):
                self.stdout.write("demo study: already present")
                return
            # Dated when it is loaded: the worklist's "Today" finds it on a first visit.
            now = timezone.localtime()
            instances = demo_study(
                patient_id=DEMO_PATIENT_EXTERNAL_ID,
                study_date=now.strftime("%Y%m%d"),
                study_time=now.strftime("%H%M%S"),
            )
            for instance in instances:
                client.store_instance(io.BytesIO(instance.content))
        except OrthancError as exc:
            raise CommandError(f"Could not load the demo study into Orthanc: {exc}") from exc
        self.stdout.write(f"demo study: {len(instances)} instances loaded")
