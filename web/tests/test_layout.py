"""Every page on a phone (390x844) and a laptop (1366x768), in a real browser: nothing scrolls
sideways but a table inside its own box, and the whole navigation stays reachable."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from devtools.dicom_samples import one_instance_study
from orthanc_bridge.shares.models import ShareLink
from orthanc_bridge.tests.factories import IndexedStudyFactory
from patients.tests.factories import PatientFactory

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def content(admin, admin_group, member_a, orthanc):
    """Long names and identifiers, as real data has them; one study of the patient is in the
    real Orthanc (sharing it asks Orthanc whom the study belongs to)."""
    patient = PatientFactory(
        external_id="IPP-2025-000000123456",
        family_name="De La Fontaine-Saint-Exupéry",
        given_name="Marie-Hélène Joséphine",
        groups=[admin_group],
    )
    studies = []
    for n, patient_id in enumerate((patient.external_id, "UNKNOWN-PATIENT-0000000001")):
        study = IndexedStudyFactory(
            orthanc_id=f"{n:08d}-00000000-00000000-00000000-00000000",
            study_uid=f"1.2.826.0.1.3680043.8.498.1234567890123456789012345678901234{n}",
            dicom_patient_id=patient_id,
            patient=patient if n == 0 else None,
            patient_name="DE LA FONTAINE-SAINT-EXUPERY^MARIE-HELENE JOSEPHINE",
            study_date="20251110",
            study_time="141500",
            study_description="Scanner thoraco-abdomino-pelvien avec injection de produit",
            accession_number="ACC-2025-0000000000042",
            referring_physician="DR^JEAN-BAPTISTE POQUELIN-MOLIERE",
            modalities=" CT SR ",
            series_count=4,
            instance_count=812,
        )
        studies.append(study)
    stored = one_instance_study(
        patient_id=patient.external_id,
        study_description="Scanner thoraco-abdomino-pelvien avec injection de produit",
    )
    orthanc.store_instance(stored.content)
    ShareLink.objects.create(
        token_hash="0" * 64,
        study_uid=studies[0].study_uid,
        study_repr="Scanner thoraco-abdomino-pelvien avec injection de produit, 2025-11-10",
        patient=patient,
        created_by=admin,
        expires_at=timezone.now() + datetime.timedelta(days=7),
        allow_download=True,
        note="Dr Jean-Baptiste Poquelin-Molière, cardiologue au centre hospitalier de Pézenas",
    )
    return {"patient": patient, "ids": {"patient": patient.pk, "study": stored.study_uid}}


PAGES = [
    "/",
    "/patients/",
    "/patients/new/",
    "/patients/{patient}/",
    "/patients/{patient}/edit/",
    "/studies/",
    "/studies/unassigned/",
    "/studies/{study}/share",
    "/shares/",
    "/audit/",
    "/accounts/users/",
    "/accounts/users/new/",
    "/accounts/groups/",
    "/accounts/groups/new/",
    "/accounts/password/",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_no_page_scrolls_sideways(size, page, browser_login, admin, content):
    page.set_viewport_size(size)
    browser_login(admin)
    wide = {}
    for path in PAGES:
        response = page.goto(path.format(**content["ids"]))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > size["width"]:
            wide[path] = width
        # Every link of the navigation and "Log out" are on the screen, not cut off.
        for item in page.locator(".topbar a, .topbar button").all():
            box = item.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1, path

    assert wide == {}


@pytest.mark.django_db(transaction=True)
def test_the_login_page_fits_a_phone(page):
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
