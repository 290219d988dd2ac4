"""Every page on a phone (390x844) and a laptop (1366x768), in a real browser: nothing scrolls
sideways but a table inside its own box, and the whole navigation stays reachable."""

from __future__ import annotations

import pytest

from orthanc_bridge.index.models import IndexedStudy
from patients.tests.factories import PatientFactory

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def content(admin, admin_group, member_a):
    """Long names and identifiers, as real data has them."""
    patient = PatientFactory(
        external_id="IPP-2025-000000123456",
        family_name="De La Fontaine-Saint-Exupéry",
        given_name="Marie-Hélène Joséphine",
        groups=[admin_group],
    )
    for n, patient_id in enumerate((patient.external_id, "UNKNOWN-PATIENT-0000000001")):
        IndexedStudy.objects.create(
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
    return {"patient": patient}


PAGES = [
    "/",
    "/patients/",
    "/patients/new/",
    "/patients/{patient}/",
    "/patients/{patient}/edit/",
    "/studies/",
    "/studies/unassigned/",
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
        page.goto(path.format(patient=content["patient"].pk))
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
