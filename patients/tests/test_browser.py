"""The patient list in a real browser: as-you-type search, shareable URL, back button."""

from __future__ import annotations

import re

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_as_you_type_updates_the_table_and_the_url(page, browser_login, viewer_all, group_a):
    PatientFactory(external_id="CARD-1", family_name="Durand", groups=[group_a])
    PatientFactory(external_id="CARD-2", family_name="Petit", groups=[group_a])
    browser_login(viewer_all)
    page.goto("/patients/")
    page.wait_for_selector("text=CARD-2")
    page.evaluate("window.__no_full_reload = true")

    page.fill("input[name=search]", "petit")
    page.wait_for_url("**/patients/?search=petit*")
    page.wait_for_selector("#patient-table >> text=1 patient")

    assert page.locator("#patient-table").inner_text().count("CARD-") == 1
    assert "CARD-2" in page.locator("#patient-table").inner_text()
    assert page.evaluate("window.__no_full_reload") is True  # swapped in place by HTMX

    page.go_back()
    page.wait_for_selector("#patient-table >> text=CARD-1")
    assert "search=" not in page.url


def test_the_form_shows_errors_in_place_and_saves(page, browser_login, member_a, group_a):
    browser_login(member_a)
    page.goto("/patients/new/")

    page.fill("input[name=external_id]", "BAD\\ID")
    page.fill("input[name=family_name]", "Martin")
    page.check(f"input[name=groups][value='{group_a.pk}']")
    page.click("#patient-form button[type=submit]")
    page.wait_for_selector("#id_external_id_error")
    assert "backslash" in page.inner_text("#id_external_id_error")
    assert Patient.objects.count() == 0

    page.fill("input[name=external_id]", "GOOD-ID")
    page.click("#patient-form button[type=submit]")
    page.wait_for_url(re.compile(r"/patients/\d+/$"))

    assert "GOOD-ID" in page.inner_text("main")
    assert Patient.objects.get().external_id == "GOOD-ID"
