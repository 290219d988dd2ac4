"""The patient page in a real browser: studies with thumbnails, upload with progress and results."""

from __future__ import annotations

import pytest

from devtools.dicom_samples import demo_study

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_folder_upload_shows_progress_results_and_the_new_study(
    page, browser_login, uploader, patient_a, orthanc, tmp_path
):
    folder = tmp_path / "exam"
    folder.mkdir()
    for instance in demo_study(patient_id="CARDIO-001", ct_count=4, mr_count=2):
        (folder / instance.filename).write_bytes(instance.content)
    stranger = tmp_path / "stranger.dcm"
    stranger.write_bytes(demo_study(patient_id="SOMEONE-ELSE", ct_count=1, mr_count=0)[0].content)
    browser_login(uploader)
    page.goto(f"/patients/{patient_a.pk}/")
    page.wait_for_selector("#studies-panel >> text=No image in the image server")

    page.set_input_files("input[webkitdirectory]", str(folder))
    # Functions, not bare expressions: Playwright eval()s those, which the portal's CSP refuses.
    page.wait_for_function("() => document.querySelector('[data-progress]').value === 100")
    page.wait_for_selector("#studies-panel .series img")

    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#studies-panel .series img'))"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )

    assert page.locator(".upload-results tr.result-stored").count() == 6
    assert page.inner_text(".upload-summary") == (
        "6 files stored · 0 already present · 0 files refused"
    )
    # The demo files name "Patient POC", not Durand: stored, and shown first with why.
    assert page.locator(".upload-results tr.result-warning").count() == 6
    assert page.locator("#studies-panel .series").count() == 2
    assert page.eval_on_selector_all(
        "#studies-panel .series img", "imgs => imgs.map(i => i.naturalWidth)"
    ) == [128, 64]  # CT_small and MR_small previews, decoded by the browser

    page.set_input_files("input[name=files]:not([webkitdirectory])", str(stranger))
    page.wait_for_selector(".upload-results tr.result-rejected")

    reason = page.inner_text(".upload-results tr.result-rejected")
    assert "SOMEONE-ELSE" in reason and "CARDIO-001" in reason
    assert page.inner_text(".upload-summary") == (
        "0 files stored · 0 already present · 1 file refused"
    )
    assert len(orthanc.get_json("/instances")) == 6


def test_the_studies_panel_lists_indexed_studies_while_orthanc_is_down(
    page, browser_login, member_a, patient_a, indexed_study_a
):
    browser_login(member_a)
    page.goto(f"/patients/{patient_a.pk}/")

    page.wait_for_selector("#studies-panel >> text=Cardiac CT")

    assert "Durand".upper() in page.inner_text("h1")
    # The preview cannot be drawn without Orthanc: a placeholder, never a broken image.
    page.wait_for_function(
        "() => { const img = document.querySelector('#studies-panel img');"
        " return img && img.complete && img.naturalWidth === 128 }"
    )


def test_sharing_from_the_patient_page_and_revoking_there(
    page, browser_login, admin, patient_a, orthanc, study_a, live_server
):
    """The staff side of share links as one clicks it: Share under the study, a lifetime, the
    link shown once with Copy; the link opens the viewer; Revoke on the patient page ends it.
    (What a visitor sees: orthanc_bridge/tests/test_shares.py, portal/tests/test_stack_shares.py)"""
    for instance in study_a:
        orthanc.store_instance(instance.content)
    browser_login(admin)
    page.goto(f"/patients/{patient_a.pk}/")
    page.click("#studies-panel a:has-text('Share')")
    page.select_option("select[name=expires_in_hours]", "1")
    page.fill("input[name=note]", "Dr Roux")

    page.click("button:has-text('Create the link')")
    page.wait_for_selector("#share-url")
    url = page.input_value("#share-url")
    page.click("button[data-copy]")

    assert url.startswith(f"{live_server.url}/s/")
    assert page.inner_text("button[data-copy]") == "Copied"
    page.context.grant_permissions(["clipboard-read"], origin=live_server.url)
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.context.clear_permissions()  # the browser is shared by the session's tests
    opened = page.context.request.get(url, max_redirects=0)
    assert (
        opened.status == 302 and "/viewer/viewer?StudyInstanceUIDs=" in opened.headers["location"]
    )

    page.goto(f"/patients/{patient_a.pk}/")
    page.wait_for_selector(".share-links >> text=Dr Roux")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(".share-links button:has-text('Revoke')")
    page.wait_for_url(f"**/patients/{patient_a.pk}/")
    page.wait_for_selector("#studies-panel .study")

    assert page.locator(".share-links").count() == 0
    assert page.context.request.get(url, max_redirects=0).status == 404
