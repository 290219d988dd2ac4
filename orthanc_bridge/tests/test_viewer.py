"""The OHIF viewer served at /viewer/, and what it shows in a real browser."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from devtools.dicom_samples import demo_study

pytestmark = pytest.mark.django_db


def test_a_viewer_link_sends_an_anonymous_user_to_login_and_back(client):
    response = client.get("/viewer/viewer?StudyInstanceUIDs=1.2.3")

    assert response.status_code == 302
    assert (
        response["Location"] == "/accounts/login/?next=/viewer/viewer%3FStudyInstanceUIDs%3D1.2.3"
    )


def test_client_routes_answer_the_viewer_page(login_client, member_a):
    response = login_client(member_a).get("/viewer/viewer?StudyInstanceUIDs=1.2.3")

    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert 'window.PUBLIC_URL="/viewer/"' in body
    assert 'src="/viewer/app-config.js"' in body


def test_assets_are_served_and_a_missing_one_is_404(client):
    index = client.get("/viewer/index.html")
    bundle = next(
        p
        for p in b"".join(index.streaming_content).decode().split('"')
        if p.startswith("/viewer/app.bundle.") and p.endswith(".js")
    )

    assert client.get(bundle).status_code == 200
    assert client.get(bundle)["Content-Type"] == "text/javascript"
    assert "immutable" in client.get(bundle)["Cache-Control"]
    assert client.get("/viewer/no-such-chunk.js").status_code == 404
    assert client.get("/viewer/../../etc/passwd").status_code in {302, 404}


def test_wasm_codecs_have_their_type(client, settings):
    from pathlib import Path

    wasm = next(Path(settings.OHIF_DIST_DIR).glob("*.wasm"))

    assert client.get(f"/viewer/{wasm.name}")["Content-Type"] == "application/wasm"


def test_the_app_config_points_at_the_portal_and_holds_no_secret(client, settings):
    settings.ORTHANC_PASSWORD = "s3cr3t-orthanc"

    body = client.get("/viewer/app-config.js").content.decode()

    assert "qidoRoot: '/dicom-web'" in body and "wadoRoot: '/dicom-web'" in body
    assert "routerBasename: '/viewer'" in body
    assert "s3cr3t-orthanc" not in body
    assert "Authorization" not in body and "password" not in body.lower()


def test_the_studies_panel_offers_all_studies_at_once(login_client, member_a, patient_a, orthanc):
    first, second = (demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0) for _ in range(2))
    for instance in first + second:
        orthanc.store_instance(io.BytesIO(instance.content))

    panel = login_client(member_a).get(f"/patients/{patient_a.pk}/studies/").content.decode()

    assert "/viewer/viewer?StudyInstanceUIDs=" in panel
    links = [chunk.split('"')[0] for chunk in panel.split('href="')[1:]]
    assert any(
        link.count(",") == 1 and first[0].study_uid in link and second[0].study_uid in link
        for link in links
    )


# --- In Chromium (WebGL through SwiftShader) ------------------------------------------------


def viewport_pixels(page) -> Image.Image:
    png = page.locator(
        ".cornerstone-viewport-element, [data-cy='viewport-pane'] canvas, canvas"
    ).first.screenshot()
    return Image.open(io.BytesIO(png)).convert("L")


def bright_fraction(image: Image.Image) -> float:
    histogram = image.histogram()
    return sum(histogram[40:]) / max(1, sum(histogram))


def open_viewer_from_patient_page(page, patient):
    # OHIF's onboarding tour would cover the image.
    page.context.add_init_script(
        "try { localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour'])) }"
        " catch (e) {}"
    )
    page.goto(f"/patients/{patient.pk}/")
    with page.context.expect_page() as opened:
        page.locator("a:has-text('Open in viewer')").first.click()
    viewer = opened.value
    viewer.set_default_timeout(60_000)
    return viewer


@pytest.mark.django_db(transaction=True)
def test_the_viewer_draws_the_ct_image(page, browser_login, member_a, patient_a, orthanc):
    for instance in demo_study(patient_id="CARDIO-001", ct_count=3, mr_count=0):
        orthanc.store_instance(io.BytesIO(instance.content))
    browser_login(member_a)

    viewer = open_viewer_from_patient_page(page, patient_a)
    viewer.wait_for_selector("canvas")
    viewer.wait_for_function("document.body.innerText.includes('CT demo')", timeout=60_000)
    viewer.wait_for_timeout(3000)  # let the first frame be drawn

    assert bright_fraction(viewport_pixels(viewer)) > 0.2
    viewer.close()


@pytest.mark.django_db(transaction=True)
def test_the_same_viewer_url_shows_nothing_to_another_group(
    page, browser_login, member_b, patient_a, orthanc
):
    study = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    orthanc.store_instance(io.BytesIO(study[0].content))
    browser_login(member_b)
    answers = []
    page.on("response", lambda r: answers.append(r) if "/dicom-web/" in r.url else None)

    page.goto(f"/viewer/viewer?StudyInstanceUIDs={study[0].study_uid}")
    page.wait_for_timeout(8000)

    assert answers, "the viewer asked nothing of /dicom-web"
    under_study = [a for a in answers if f"/dicom-web/studies/{study[0].study_uid}" in a.url]
    searches = [a for a in answers if "/dicom-web/studies?" in a.url]
    assert all(a.status == 404 for a in under_study)
    assert searches and all(a.json() == [] for a in searches)
    assert "CT demo" not in page.inner_text("body")


@pytest.mark.django_db(transaction=True)
def test_ohifs_study_list_shows_the_users_own_studies_and_finds_a_partial_name(
    page, browser_login, member_a, patient_a, orthanc, group_b
):
    from devtools.dicom_samples import one_instance_study
    from patients.tests.factories import PatientFactory

    PatientFactory(external_id="RADIO-9", family_name="Autre", groups=[group_b])
    mine = one_instance_study(patient_id="CARDIO-001", patient_name="DUPRÉ^Hélène")
    also_mine = one_instance_study(patient_id="CARDIO-001", patient_name="DUPRÉ^Hélène")
    theirs = one_instance_study(patient_id="RADIO-9", patient_name="DUPONT^Marc")
    for instance in (mine, also_mine, theirs):
        orthanc.store_instance(io.BytesIO(instance.content))
    browser_login(member_a)

    page.goto("/viewer/")
    page.wait_for_function("document.body.innerText.includes('DUPRÉ')", timeout=60_000)
    assert "DUPONT" not in page.inner_text("body")

    # A partial name, no accent, lower case; OHIF searches once typing pauses.
    with page.expect_response(lambda r: "PatientName=" in r.url, timeout=30_000) as searched:
        page.locator("input").first.fill("dupr")
    assert searched.value.status == 200
    assert len(searched.value.json()) == 2
    page.wait_for_function("document.body.innerText.split('DUPRÉ').length - 1 >= 2", timeout=30_000)
    assert "DUPONT" not in page.inner_text("body")

    # A wildcard typed by the user: the list shows what the portal found (OHIF 3.13's default
    # list would filter it again in the browser, literally, and show nothing).
    with page.expect_response(lambda r: "ene" in r.url, timeout=30_000) as searched:
        page.locator("input").first.fill("*ene")
    assert len(searched.value.json()) == 2
    page.wait_for_function("document.body.innerText.split('DUPRÉ').length - 1 >= 2", timeout=30_000)


# --- Round trips between the portal and the viewer -------------------------------------------


def test_the_viewers_way_back_leads_to_the_studys_patient_for_those_who_see_it(
    login_client, member_a, member_b, patient_a, orthanc
):
    ct = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0]
    orthanc.store_instance(io.BytesIO(ct.content))

    mine = login_client(member_a).get(f"/studies/{ct.study_uid}/patient")
    theirs = login_client(member_b).get(f"/studies/{ct.study_uid}/patient")

    assert (mine.status_code, mine["Location"]) == (302, f"/patients/{patient_a.pk}/")
    assert theirs.status_code == 404


def test_the_app_config_speaks_the_portals_language_and_shows_no_tour(login_client, member_a):
    client = login_client(member_a)
    client.cookies["django_language"] = "fr"

    body = client.get("/viewer/app-config.js").content.decode()

    assert "localStorage.setItem('i18nextLng', 'fr')" in body
    assert "'ohif.tours': { $set: [] }" in body
    assert "Retour au patient" in body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("phone", [False, True], ids=["laptop", "phone"])
def test_from_a_thumbnail_to_the_viewer_and_back_to_the_patient(
    phone, page, browser_login, member_a, patient_a, orthanc
):
    for instance in demo_study(patient_id="CARDIO-001", ct_count=2, mr_count=2):
        orthanc.store_instance(io.BytesIO(instance.content))
    if phone:  # OHIF's toolbar covers the middle of its header there
        page.context.pages[0].set_viewport_size({"width": 390, "height": 844})
        page.set_viewport_size({"width": 390, "height": 844})
    browser_login(member_a)
    page.goto(f"/patients/{patient_a.pk}/")
    page.locator("#language-select, select[name=language]").select_option("fr")
    page.wait_for_load_state("networkidle")

    with page.context.expect_page() as opened:  # the MR series' thumbnail
        page.locator(".series a:has(img)").last.click()
    viewer = opened.value
    viewer.set_default_timeout(60_000)
    if phone:
        viewer.set_viewport_size({"width": 390, "height": 844})
    viewer.wait_for_selector("canvas")
    viewer.wait_for_function("document.body.innerText.includes('MR demo')")
    viewer.wait_for_timeout(2000)

    assert "initialSeriesInstanceUID=" in viewer.url
    assert viewer.locator(".shepherd-element, [role=dialog]:has-text('Next')").count() == 0
    assert "Études" in viewer.inner_text("body")  # OHIF in French, as the portal
    viewer.locator("[data-cy=portal-back-link]").first.click()
    viewer.wait_for_url(f"**/patients/{patient_a.pk}/")
    viewer.close()
