"""Share links through the production topology (`make stack`): the stack's Nginx streams a
visitor's image bytes after the portal's decision, so what a link opens, and when it stops, is
checked there too — both ways the stack can carry WADO bytes — and OHIF draws the shared study
in headless Chromium for a visitor who never logged in."""

from __future__ import annotations

import time

import pytest

from devtools.dicom_samples import demo_study
from orthanc_bridge.tests.test_dicomweb import endpoints
from orthanc_bridge.tests.test_viewer import bright_fraction, viewport_pixels
from portal.tests.stack_client import ADMIN, session, token, viewer_page

DECISION_SECONDS = 10  # the stack's DICOMWEB_DECISION_SECONDS (the portal's default)


@pytest.fixture(scope="module")
def other_study(stack):
    """A study of another patient (RADIO-9), uploaded through Nginx."""
    study = demo_study(patient_id="RADIO-9", ct_count=1, mr_count=0)
    answer = session(stack).post(
        f"{stack.url}/api/patients/{stack.patients['other']}/dicom",
        files=[("files", (i.filename, i.content, "application/dicom")) for i in study],
        headers=token(stack, *ADMIN),
    )
    assert answer.status_code == 200, answer.text
    return study


def share(stack, study_uid: str, **fields) -> dict:
    answer = session(stack).post(
        f"{stack.url}/api/shares",
        json={"study_uid": study_uid, "expires_in_hours": 1, **fields},
        headers=token(stack, *ADMIN),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def visitor(stack, url: str):
    client = session(stack)
    landing = client.get(url, allow_redirects=False)
    assert landing.status_code == 302, landing.text
    assert "Secure" in landing.headers["Set-Cookie"]
    return client


def test_a_link_through_nginx_opens_its_study_and_nothing_else(
    stack, bytes_via, uploaded, other_study
):
    made = share(stack, uploaded[0].study_uid)
    assert made["url"].startswith(f"{stack.url}/s/")
    client = visitor(stack, made["url"])

    shared = {
        name: client.get(f"{stack.url}{url}", headers={"Accept": accept}).status_code
        for name, (url, accept) in endpoints(uploaded).items()
    }
    other = {
        name: client.get(f"{stack.url}{url}", headers={"Accept": accept}).status_code
        for name, (url, accept) in endpoints(other_study).items()
    }
    listed = client.get(f"{stack.url}/dicom-web/studies", headers={"Accept": "*/*"}).json()

    assert shared == dict.fromkeys(shared, 200)
    assert other == dict.fromkeys(other, 401)
    assert {item["0020000D"]["Value"][0] for item in listed} == {uploaded[0].study_uid}
    assert client.get(f"{stack.url}/patients/", allow_redirects=False).status_code == 302
    assert client.get(f"{stack.url}/api/patients").status_code == 401


def test_revoking_stops_the_link_through_nginx_within_the_stated_bound(stack, bytes_via, uploaded):
    made = share(stack, uploaded[0].study_uid)
    client = visitor(stack, made["url"])
    url, accept = endpoints(uploaded)["frames"]
    assert client.get(f"{stack.url}{url}", headers={"Accept": accept}).status_code == 200

    revoked = session(stack).delete(
        f"{stack.url}/api/shares/{made['id']}", headers=token(stack, *ADMIN)
    )
    assert revoked.status_code == 204
    # Searches and pages are decided afresh on every request.
    search = client.get(f"{stack.url}/dicom-web/studies", headers={"Accept": "*/*"})
    assert search.status_code == 401
    time.sleep(DECISION_SECONDS + 1)  # Nginx may keep its last "allowed" this long, no longer

    frames = client.get(f"{stack.url}{url}", headers={"Accept": accept})
    assert frames.status_code == 401
    assert client.get(made["url"], allow_redirects=False).status_code == 404


def test_no_log_of_the_stack_holds_a_working_token(stack, uploaded):
    made = share(stack, uploaded[0].study_uid)
    visitor(stack, made["url"])
    secret = made["url"].rsplit("/", 1)[1]

    logs = {
        path.name: path.read_text(errors="replace")
        for path in stack.directory.rglob("*.log")
        if path.is_file()
    }

    assert "access.log" in logs and "/s/<token>" in logs["access.log"]
    assert [name for name, text in logs.items() if secret in text] == []


def test_the_zip_through_nginx_only_when_allowed(stack, uploaded):
    allowed = share(stack, uploaded[0].study_uid, allow_download=True)
    refused = share(stack, uploaded[0].study_uid)
    client = visitor(stack, allowed["url"])
    client.get(refused["url"], allow_redirects=False)

    archive = client.get(f"{stack.url}/s/{allowed['id']}/study.zip")
    not_allowed = client.get(f"{stack.url}/s/{refused['id']}/study.zip")

    assert archive.status_code == 200 and archive.content[:2] == b"PK"
    assert not_allowed.status_code == 404


def test_ohif_draws_the_shared_study_for_a_visitor_with_no_session(stack, uploaded, browser):
    made = share(stack, uploaded[0].study_uid, allow_download=True)
    page = viewer_page(browser)

    page.goto(made["url"])
    page.wait_for_selector("canvas")
    page.wait_for_function("document.body.innerText.includes('CT demo')")
    page.wait_for_timeout(3000)  # let the first frame be drawn

    assert bright_fraction(viewport_pixels(page)) > 0.2
    banner = page.inner_text("[data-cy=share-banner]")
    assert "Preview DICOM" in banner and "valid until" in banner
    assert page.get_attribute("[data-cy=share-download]", "href") == f"/s/{made['id']}/study.zip"
    assert not [c for c in browser.cookies() if c["name"] == "sessionid"]
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the banner at the foot
    page.reload()
    page.wait_for_selector("canvas")
    strip = page.locator("[data-cy=share-banner-phone]")
    assert "valid until" in strip.inner_text()
    box = strip.bounding_box()
    assert box and box["y"] + box["height"] <= 844 + 1 and box["width"] <= 390 + 1
    assert page.csp_refused == []
    page.close()

    trail = session(stack)
    trail.post(
        f"{stack.url}/accounts/login/",
        data={"email": ADMIN[0], "password": ADMIN[1], "csrfmiddlewaretoken": csrf(trail, stack)},
        headers={"Referer": f"{stack.url}/accounts/login/"},
    )
    events = trail.get(
        f"{stack.url}/audit/", params={"action": "share.view"}, headers={"Accept-Language": "en"}
    ).text
    assert f"visitor with link #{made['id']}" in events
    assert "HeadlessChrome" in events  # the visitor's browser, as Nginx passed it on


def csrf(client, stack) -> str:
    client.get(f"{stack.url}/accounts/login/")
    return client.cookies["csrftoken"]
