"""Share links: who makes, lists and revokes them; what a link opens for a visitor without an
account, and nothing more; expiry, revocation, guessing; the audit trail of their use.

Against the real Orthanc of the test session and the portal's own DICOMweb view (the stack's
Nginx path is tested in portal/tests/test_stack_shares.py).
"""

from __future__ import annotations

import datetime
import importlib
import io
import re
import zipfile

import pydicom
import pytest
from django.test import Client
from django.utils import timezone

from accounts import rights
from accounts.tests.factories import GroupFactory, UserFactory
from audit.models import Action, AuditEvent
from devtools.dicom_samples import demo_study, one_instance_study
from orthanc_bridge.shares.models import ShareLink, token_hash
from orthanc_bridge.tests.test_dicomweb import MULTIPART_DICOM, endpoints, stow_body
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Test) Chromium"


@pytest.fixture
def stored(orthanc, patient_a, group_b, study_a):
    """Patient A's shared study, a second study of patient A, and a study of patient B."""
    PatientFactory(external_id="RADIO-001", family_name="Petit", groups=[group_b])
    second_a = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)
    study_b = demo_study(patient_id="RADIO-001", ct_count=1, mr_count=0)
    for instance in study_a + second_a + study_b:
        orthanc.store_instance(io.BytesIO(instance.content))
    return {"shared": study_a, "second_a": second_a, "b": study_b}


@pytest.fixture
def sharer(group_a):
    """A member of group A who may share images."""
    sharers = GroupFactory(name="Partage", rights=[rights.SHARE_IMAGES])
    return UserFactory(email="partage@hopital.example", name="Partage", groups=[group_a, sharers])


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def share(client: Client, study_uid: str, **fields) -> dict:
    answer = client.post(
        "/api/shares", {"study_uid": study_uid, **fields}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    assert answer["Cache-Control"] == "private, no-store"  # it holds the token, once
    return answer.json()


def visitor(url: str) -> Client:
    """A browser with no session that opens the link."""
    client = Client(HTTP_USER_AGENT=BROWSER)
    answer = client.get(url.removeprefix("http://testserver"))
    assert answer.status_code == 302, answer.content
    return client


def qido_uids(client: Client, level: str = "studies", **params) -> set[str]:
    answer = client.get(f"/dicom-web/{level}", params, HTTP_ACCEPT="application/dicom+json")
    assert answer.status_code == 200, answer.content
    return {item["0020000D"]["Value"][0] for item in answer.json()}


# --- Making links -----------------------------------------------------------------------------


def test_a_link_is_made_once_with_256_random_bits_and_only_its_hash_is_kept(admin, stored):
    uid = stored["shared"][0].study_uid

    made = share(logged_in(admin), uid, expires_in_hours=1, allow_download=True, note="Dr Roux")

    token = re.fullmatch(r"http://testserver/s/([A-Za-z0-9_-]+)", made["url"]).group(1)
    assert len(token) >= 43  # 32 bytes in base64url
    link = ShareLink.objects.get(pk=made["id"])
    assert link.token_hash == token_hash(token)
    stored_text = " ".join(str(v) for v in ShareLink.objects.values_list().get(pk=link.pk))
    assert token not in stored_text
    assert made["status"] == "active" and made["allow_download"] is True
    lifetime = link.expires_at - timezone.now()
    assert datetime.timedelta(minutes=59) < lifetime <= datetime.timedelta(hours=1)
    event = AuditEvent.objects.get(action=Action.SHARE_CREATE)
    assert (event.actor_email, event.object_id, event.patient_external_id) == (
        admin.email,
        str(link.pk),
        "CARDIO-001",
    )
    assert token not in str(event.changes)
    assert ShareLink.objects.get(pk=made["id"]).patient.external_id == "CARDIO-001"


def test_a_link_lasts_seven_days_unless_told(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)

    lifetime = ShareLink.objects.get(pk=made["id"]).expires_at - timezone.now()

    assert datetime.timedelta(days=6, hours=23) < lifetime <= datetime.timedelta(days=7)
    assert made["allow_download"] is False


@pytest.mark.parametrize("hours", [0, 721, "soon"])
def test_a_lifetime_outside_one_hour_to_thirty_days_is_refused(admin, stored, hours):
    answer = logged_in(admin).post(
        "/api/shares",
        {"study_uid": stored["shared"][0].study_uid, "expires_in_hours": hours},
        content_type="application/json",
    )

    assert answer.status_code == 400
    assert "expires_in_hours" in str(answer.json())
    assert not ShareLink.objects.exists()


SHARE_EXPECTED = {"admin": 201, "sharer": 201, "member_a": 403, "member_b": 404, "anonymous": 401}


@pytest.mark.parametrize("persona", SHARE_EXPECTED)
def test_who_may_share_a_study(persona, admin, sharer, member_a, member_b, stored):
    users = {"admin": admin, "sharer": sharer, "member_a": member_a, "member_b": member_b}
    client = logged_in(users[persona]) if persona in users else Client()
    if persona == "member_b":  # even with the right: patient A is not theirs
        member_b.groups.add(GroupFactory(name="Partage B", rights=[rights.SHARE_IMAGES]))

    answer = client.post(
        "/api/shares",
        {"study_uid": stored["shared"][0].study_uid},
        content_type="application/json",
    )

    assert answer.status_code == SHARE_EXPECTED[persona], answer.content
    assert ShareLink.objects.count() == (1 if answer.status_code == 201 else 0)


def test_sharing_an_unknown_study_is_a_404(admin, orthanc):
    answer = logged_in(admin).post(
        "/api/shares", {"study_uid": "1.2.3.4.5.6.7"}, content_type="application/json"
    )

    assert answer.status_code == 404


def test_the_share_page_shows_the_link_once_and_the_patient_page_lists_it(admin, stored):
    uid = stored["shared"][0].study_uid
    client = logged_in(admin)

    form = client.get(f"/studies/{uid}/share")
    made = client.post(
        f"/studies/{uid}/share", {"expires_in_hours": 24, "allow_download": "on", "note": "Dr X"}
    )

    assert form.status_code == 200 and b'name="expires_in_hours"' in form.content
    assert made.status_code == 201
    assert made["Cache-Control"] == "private, no-store"  # the page shows the token, once
    url = re.search(rb'value="(http://testserver/s/[A-Za-z0-9_-]+)"', made.content).group(1)
    link = ShareLink.objects.get()
    assert link.token_hash == token_hash(url.decode().rsplit("/", 1)[1])
    assert (link.note, link.allow_download) == ("Dr X", True)
    panel = client.get(f"/patients/{link.patient_id}/studies/").content.decode()
    assert f"#{link.pk}" in panel and "Dr X" in panel
    assert f"/shares/{link.pk}/revoke" in panel
    assert url.decode() not in panel  # never shown again
    worklist = client.get("/studies/").content.decode()
    assert f"/studies/{uid}/share" in worklist


def test_the_share_button_is_only_for_those_who_may_share(member_a, stored):
    client = logged_in(member_a)
    patient_pk = PatientFactory._meta.model.objects.get(external_id="CARDIO-001").pk

    panel = client.get(f"/patients/{patient_pk}/studies/").content.decode()

    assert "/share" not in panel
    assert client.get(f"/studies/{stored['shared'][0].study_uid}/share").status_code == 403


# --- Listing and revoking ---------------------------------------------------------------------


@pytest.fixture
def links(admin, sharer, stored):
    """One link by the sharer, one by the admin."""
    uid = stored["shared"][0].study_uid
    return {"sharer": share(logged_in(sharer), uid), "admin": share(logged_in(admin), uid)}


def test_the_list_is_ones_own_links_and_every_link_for_audit_readers(
    admin, sharer, member_a, links
):
    def listed(user):
        answer = logged_in(user).get("/api/shares")
        return answer.status_code, {row["id"] for row in answer.json().get("results", [])}

    assert listed(sharer) == (200, {links["sharer"]["id"]})
    assert listed(admin) == (200, {links["sharer"]["id"], links["admin"]["id"]})
    assert listed(member_a)[0] == 403
    assert "url" not in logged_in(admin).get("/api/shares").json()["results"][0]
    page = logged_in(sharer).get("/shares/").content.decode()
    assert f"#{links['sharer']['id']}" in page and f"#{links['admin']['id']}" not in page


@pytest.mark.parametrize("status", ["AAA", ""])
def test_the_list_refuses_an_unknown_status_rather_than_listing_them_all(admin, links, status):
    answer = logged_in(admin).get("/api/shares", {"status": status})

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["status"]


def test_one_link_is_read_by_those_who_may_list_it_never_with_its_token(
    admin, sharer, member_b, links
):
    mine = logged_in(sharer).get(f"/api/shares/{links['sharer']['id']}")
    not_mine = logged_in(sharer).get(f"/api/shares/{links['admin']['id']}")
    as_auditor = logged_in(admin).get(f"/api/shares/{links['sharer']['id']}")

    assert mine.status_code == 200 and mine.json()["status"] == "active"
    assert "url" not in mine.json() and "token_hash" not in mine.json()
    assert not_mine.status_code == 404
    assert as_auditor.status_code == 200
    assert logged_in(member_b).get(f"/api/shares/{links['admin']['id']}").status_code == 403


REVOKE_EXPECTED = {"author": 204, "colleague_who_shares": 204, "member_a": 404, "member_b": 404}


@pytest.mark.parametrize("persona", REVOKE_EXPECTED)
def test_who_may_revoke_a_link(persona, sharer, member_a, member_b, group_a, links):
    colleague = UserFactory(
        email="collegue@hopital.example",
        groups=[group_a, GroupFactory(name="Partage 2", rights=[rights.SHARE_IMAGES])],
    )
    users = {
        "author": sharer,
        "colleague_who_shares": colleague,
        "member_a": member_a,
        "member_b": member_b,
    }

    answer = logged_in(users[persona]).delete(f"/api/shares/{links['sharer']['id']}")

    assert answer.status_code == REVOKE_EXPECTED[persona]
    revoked = ShareLink.objects.get(pk=links["sharer"]["id"]).revoked_at is not None
    assert revoked == (answer.status_code == 204)
    assert AuditEvent.objects.filter(action=Action.SHARE_REVOKE).count() == int(revoked)


def test_an_audit_reader_without_the_share_right_sees_but_may_not_revoke(db, links):
    reader = UserFactory(
        email="audit@hopital.example",
        groups=[GroupFactory(name="Qualité", rights=[rights.VIEW_AUDIT_LOG])],
    )

    answer = logged_in(reader).delete(f"/api/shares/{links['admin']['id']}")

    assert answer.status_code == 403
    assert ShareLink.objects.get(pk=links["admin"]["id"]).is_active


def test_revoking_twice_records_one_event(sharer, links):
    client = logged_in(sharer)

    first = client.delete(f"/api/shares/{links['sharer']['id']}")
    second = client.delete(f"/api/shares/{links['sharer']['id']}")

    assert (first.status_code, second.status_code) == (204, 204)
    assert AuditEvent.objects.filter(action=Action.SHARE_REVOKE).count() == 1


def test_who_made_and_who_revoked_a_link_are_emails_or_null(admin, sharer, links):
    """Never an empty string: the schema says an email or null (the creator may be deleted)."""
    client = logged_in(admin)
    link = f"/api/shares/{links['sharer']['id']}"
    active = client.get(link).json()
    client.delete(link)
    sharer.delete()
    revoked = client.get(link).json()

    assert (active["created_by"], active["revoked_by"]) == (sharer.email, None)
    assert (revoked["created_by"], revoked["revoked_by"]) == (None, admin.email)


def test_revoking_from_the_patient_page_comes_back_to_it(admin, links):
    link = ShareLink.objects.get(pk=links["admin"]["id"])
    back = f"/patients/{link.patient_id}/"

    answer = logged_in(admin).post(f"/shares/{link.pk}/revoke", {"next": back})
    elsewhere = logged_in(admin).post(
        f"/shares/{links['sharer']['id']}/revoke", {"next": "https://evil.example/"}
    )

    assert (answer.status_code, answer["Location"]) == (302, back)
    assert elsewhere["Location"] == "/shares/"
    assert ShareLink.objects.active().count() == 0


# --- What a link opens ------------------------------------------------------------------------


def test_the_link_opens_the_viewer_on_its_study_with_no_login(admin, stored):
    uid = stored["shared"][0].study_uid
    made = share(logged_in(admin), uid, expires_in_hours=1)
    client = Client(HTTP_USER_AGENT=BROWSER, HTTP_ACCEPT_LANGUAGE="en")

    landing = client.get(made["url"].removeprefix("http://testserver"))
    viewer = client.get(landing["Location"])
    config = client.get("/viewer/app-config.js").content.decode()

    assert landing.status_code == 302
    assert landing["Location"] == f"/viewer/viewer?StudyInstanceUIDs={uid}"
    assert landing.cookies["preview_shares"]["httponly"]
    assert landing["Cache-Control"] == "private, no-store"
    assert viewer.status_code == 200 and b"<html" in b"".join(viewer.streaming_content).lower()
    assert "share-banner" in config and "valid until" in config
    assert "portal-back-link" not in config and "showStudyList: false" in config
    assert "study.zip" not in config  # the link does not allow the download


def test_the_banner_is_in_the_visitors_language(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.get(made["url"].removeprefix("http://testserver"))

    config = client.get("/viewer/app-config.js").content.decode()

    assert "lien de partage valable jusqu" in config
    assert "i18nextLng', 'fr'" in config


def test_the_gate_never_lets_nginx_keep_a_links_decision_past_its_expiry(admin, stored, settings):
    settings.DICOMWEB_DECISION_SECONDS = 60
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    ShareLink.objects.filter(pk=made["id"]).update(
        expires_at=timezone.now() + datetime.timedelta(seconds=5)
    )
    client = visitor(made["url"])
    url, _accept = endpoints(stored["shared"])["frames"]

    answer = client.get(
        "/internal/dicom-web/decision", HTTP_X_ORIGINAL_URI=url, HTTP_X_ORIGINAL_METHOD="GET"
    )

    assert answer.status_code == 204
    assert 0 <= int(answer["X-Accel-Expires"]) <= 5


def test_a_visitors_search_never_makes_the_portal_look_a_new_uid_up(
    admin, orthanc, stored, orthanc_server
):
    from orthanc_bridge.client import OrthancClient
    from orthanc_bridge.index.models import IndexedStudy

    made = share(logged_in(admin), stored["shared"][0].study_uid)
    behind = demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0)[0]
    modality = OrthancClient(orthanc_server.url, "preview", orthanc_server.password)
    modality.store_instance(behind.content)  # in Orthanc, not indexed: the follower is behind
    client = visitor(made["url"])

    found = qido_uids(client, StudyInstanceUID=behind.study_uid)

    assert found == set()
    assert not IndexedStudy.objects.filter(study_uid=behind.study_uid).exists()
    assert qido_uids(logged_in(admin), StudyInstanceUID=behind.study_uid) == {behind.study_uid}


def test_without_a_link_the_viewer_page_asks_for_a_login(db):
    answer = Client().get("/viewer/viewer?StudyInstanceUIDs=1.2.3")

    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_a_visitor_gets_everything_under_the_shared_study(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = visitor(made["url"])

    statuses = {
        endpoint: client.get(url, HTTP_ACCEPT=accept).status_code
        for endpoint, (url, accept) in endpoints(stored["shared"]).items()
    }
    thumbnail = client.get(
        f"/dicom-web/studies/{stored['shared'][0].study_uid}/series/"
        f"{stored['shared'][0].series_uid}/thumbnail"
    )

    assert statuses == dict.fromkeys(statuses, 200)
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"].startswith("image/")


def test_a_visitors_search_lists_the_shared_study_only(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = visitor(made["url"])

    assert qido_uids(client) == {stored["shared"][0].study_uid}
    assert qido_uids(client, "series") == {stored["shared"][0].study_uid}
    assert qido_uids(client, "instances") == {stored["shared"][0].study_uid}
    assert qido_uids(client, PatientID="CARDIO-001") == {stored["shared"][0].study_uid}
    assert qido_uids(client, StudyInstanceUID=stored["second_a"][0].study_uid) == set()
    assert qido_uids(client, StudyInstanceUID=stored["b"][0].study_uid) == set()


@pytest.mark.parametrize("other", ["second_a", "b"])
def test_another_studys_uids_with_a_valid_link_get_what_an_anonymous_client_gets(
    admin, stored, other
):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = visitor(made["url"])
    anonymous = Client()

    for name, (url, accept) in endpoints(stored[other]).items():
        with_link = client.get(url, HTTP_ACCEPT=accept)
        without = anonymous.get(url, HTTP_ACCEPT=accept)
        assert (name, with_link.status_code) == (name, 401)
        assert with_link.json() == without.json()
        assert with_link["WWW-Authenticate"] == without["WWW-Authenticate"]


def test_two_links_opened_in_one_browser_both_work(admin, stored, orthanc, patient_a):
    first = share(logged_in(admin), stored["shared"][0].study_uid)
    second = share(logged_in(admin), stored["second_a"][0].study_uid)
    client = visitor(first["url"])
    client.get(second["url"].removeprefix("http://testserver"))

    assert qido_uids(client) == {stored["shared"][0].study_uid, stored["second_a"][0].study_uid}
    for study in ("shared", "second_a"):
        url, accept = endpoints(stored[study])["study metadata"]
        assert client.get(url, HTTP_ACCEPT=accept).status_code == 200
    url, accept = endpoints(stored["b"])["study metadata"]
    assert client.get(url, HTTP_ACCEPT=accept).status_code == 401


def test_a_visitor_can_write_nothing_and_open_no_page_or_api(admin, stored, patient_a):
    made = share(logged_in(admin), stored["shared"][0].study_uid, allow_download=True)
    client = visitor(made["url"])
    body, content_type = stow_body(demo_study(patient_id="CARDIO-001", ct_count=1, mr_count=0))
    series = stored["shared"][0]

    stow = client.post("/dicom-web/studies", body, content_type=content_type)
    stow_into = client.post(
        f"/dicom-web/studies/{series.study_uid}", body, content_type=content_type
    )
    pages = {
        path: client.get(path).status_code
        for path in [
            "/",
            "/studies/",
            "/patients/",
            f"/patients/{patient_a.pk}/",
            f"/patients/{patient_a.pk}/studies/",
            f"/studies/{series.study_uid}/patient",
            f"/studies/{series.study_uid}/share",
            "/shares/",
            "/audit/",
        ]
    }
    apis = {
        path: client.get(path).status_code
        for path in ["/api/patients", "/api/studies", "/api/shares", "/api/auth/me"]
    }

    assert (stow.status_code, stow_into.status_code) == (401, 401)
    assert set(pages.values()) == {302}  # to the login page, as for anyone anonymous
    assert set(apis.values()) <= {401, 404}
    assert 404 not in {apis["/api/patients"], apis["/api/studies"], apis["/api/shares"]}
    assert client.delete(f"/api/shares/{made['id']}").status_code == 401
    assert ShareLink.objects.get(pk=made["id"]).is_active


@pytest.mark.parametrize("allowed", [True, False])
def test_the_zip_only_when_the_link_allows_it(admin, stored, allowed):
    made = share(logged_in(admin), stored["shared"][0].study_uid, allow_download=allowed)
    client = visitor(made["url"])

    answer = client.get(f"/s/{made['id']}/study.zip")

    if allowed:
        assert answer.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
        assert len(archive.namelist()) == len(stored["shared"])
        event = AuditEvent.objects.get(action=Action.SHARE_DOWNLOAD)
        assert event.changes["user_agent"] == BROWSER
    else:
        assert answer.status_code == 404
        assert not AuditEvent.objects.filter(action=Action.SHARE_DOWNLOAD).exists()
    assert Client().get(f"/s/{made['id']}/study.zip").status_code == 404  # no cookie


def test_a_link_opened_in_a_staff_browser_adds_nothing_to_their_rights(admin, member_b, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = logged_in(member_b)
    client.get(made["url"].removeprefix("http://testserver"))
    url, accept = endpoints(stored["shared"])["study metadata"]

    assert qido_uids(client) == {stored["b"][0].study_uid}
    assert client.get(url, HTTP_ACCEPT=accept).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.SHARE_VIEW).exists()


# --- Ending: expiry, revocation, a study that moves ------------------------------------------


def test_expired_revoked_and_unknown_links_get_the_same_answer(admin, stored):
    uid = stored["shared"][0].study_uid
    expired = share(logged_in(admin), uid)
    revoked = share(logged_in(admin), uid)
    ShareLink.objects.filter(pk=expired["id"]).update(expires_at=timezone.now())
    logged_in(admin).delete(f"/api/shares/{revoked['id']}")
    unknown = "/s/" + "A" * 43

    paths = [
        expired["url"].removeprefix("http://testserver"),
        revoked["url"].removeprefix("http://testserver"),
        unknown,
        "/s/short",
    ]
    answers = [Client().get(path) for path in paths]
    # The same page, but for the CSRF token and the page's own address (language switcher).
    bodies = {
        re.sub(r"[A-Za-z0-9]{64}", "", a.content.decode().replace(path, ""))
        for a, path in zip(answers, paths, strict=True)
    }

    assert {a.status_code for a in answers} == {404}
    assert len(bodies) == 1
    assert {a["Cache-Control"] for a in answers} == {"private, no-store"}
    assert b"expired" in answers[0].content or "expiré".encode() in answers[0].content
    assert "preview_shares" not in answers[0].cookies


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_link_that_ends_stops_the_next_request(admin, stored, ending):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = visitor(made["url"])
    url, accept = endpoints(stored["shared"])["frames"]
    assert client.get(url, HTTP_ACCEPT=accept).status_code == 200

    if ending == "revoked":
        logged_in(admin).delete(f"/api/shares/{made['id']}")
    else:
        ShareLink.objects.filter(pk=made["id"]).update(expires_at=timezone.now())

    assert client.get(url, HTTP_ACCEPT=accept).status_code == 401
    assert client.get("/dicom-web/studies", HTTP_ACCEPT="application/dicom+json").status_code == 401
    assert client.get("/viewer/viewer?StudyInstanceUIDs=1").status_code == 302


def test_deactivating_the_author_ends_their_links(admin, sharer, stored):
    made = share(logged_in(sharer), stored["shared"][0].study_uid)
    client = visitor(made["url"])
    sharer.is_active = False
    sharer.save()

    answer = client.get("/dicom-web/studies", HTTP_ACCEPT="application/dicom+json")

    assert answer.status_code == 401
    assert ShareLink.objects.get(pk=made["id"]).status == "revoked"
    assert Client().get(made["url"].removeprefix("http://testserver")).status_code == 404


def test_a_link_opens_nothing_once_its_study_is_held_by_another_patient(admin, orthanc, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    dataset = pydicom.dcmread(io.BytesIO(one_instance_study(patient_id="RADIO-001").content))
    dataset.StudyInstanceUID = stored["shared"][0].study_uid
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    orthanc.store_instance(buffer.getvalue())

    answer = Client().get(made["url"].removeprefix("http://testserver"))

    assert answer.status_code == 404


# --- Guessing ---------------------------------------------------------------------------------


def test_guessing_is_limited_per_client_address(admin, stored, settings):
    settings.SHARE_LOOKUP_FAILURES_MAX = 5
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    other = Client(REMOTE_ADDR="203.0.113.8")

    guesses = [guesser.get(f"/s/{'B' * 42}{n}").status_code for n in range(5)]
    right_after = guesser.get(made["url"].removeprefix("http://testserver"))
    someone_else = other.get(made["url"].removeprefix("http://testserver"))

    assert guesses == [404] * 5
    assert right_after.status_code == 429  # even the right token: the address is slowed down
    assert right_after["Retry-After"] == "600"
    assert someone_else.status_code == 302


def test_a_forged_share_cookie_grants_nothing(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = Client()
    client.cookies["preview_shares"] = str(made["id"])

    answer = client.get("/dicom-web/studies", HTTP_ACCEPT="application/dicom+json")

    assert answer.status_code == 401


# --- The audit trail --------------------------------------------------------------------------


def test_opening_and_the_first_view_per_ten_minutes_are_in_the_patients_trail(
    admin, stored, patient_a
):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    client = visitor(made["url"])
    url, accept = endpoints(stored["shared"])["frames"]
    for _ in range(3):
        client.get(url, HTTP_ACCEPT=accept)

    opened = AuditEvent.objects.get(action=Action.SHARE_OPEN)
    viewed = AuditEvent.objects.filter(action=Action.SHARE_VIEW)
    assert viewed.count() == 1
    for event in (opened, viewed.get()):
        assert event.object_id == str(made["id"]) and event.actor_id is None
        assert event.patient_id == patient_a.pk
        assert event.changes["address"] == "127.0.0.1"
        assert event.changes["user_agent"] == BROWSER
    assert ShareLink.objects.get(pk=made["id"]).opened_count == 1
    panel = logged_in(admin).get(f"/patients/{patient_a.pk}/").content.decode()
    assert f"#{made['id']}" in panel
    assert "Share link opened" in panel and f"visitor with link #{made['id']}" in panel


def test_a_visitor_is_named_by_the_link_in_the_audit_trail(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    visitor(made["url"])

    page = logged_in(admin).get("/audit/", {"action": "share.open"}, HTTP_ACCEPT_LANGUAGE="en")

    assert f"visitor with link #{made['id']}" in page.content.decode()


def test_the_migration_gives_the_right_to_an_existing_administrators_group(db):
    from django.apps import apps
    from django.contrib.auth.models import Group

    administrators = Group.objects.create(name="Administrateurs")
    others = Group.objects.create(name="Cardiologie")
    migration = importlib.import_module("accounts.migrations.0002_share_images_right")

    migration.grant_to_administrators(apps, None)

    assert administrators.permissions.filter(codename="share_images").exists()
    assert not others.permissions.exists()


def test_frames_through_a_link_are_the_same_bytes_as_for_the_admin(admin, stored):
    made = share(logged_in(admin), stored["shared"][0].study_uid)
    url, accept = endpoints(stored["shared"])["retrieve instance"]

    as_visitor = visitor(made["url"]).get(url, HTTP_ACCEPT=MULTIPART_DICOM)
    as_admin = logged_in(admin).get(url, HTTP_ACCEPT=accept)

    seen = parts(as_visitor)
    assert seen == parts(as_admin)
    assert len(seen) == 1 and len(seen[0]) > 1000


def parts(response) -> list[bytes]:
    """The parts of a multipart answer, without the boundary (which differs per answer)."""
    match = re.search(r"boundary=\"?([^\";]+)", response["Content-Type"])
    assert match is not None
    boundary = match.group(1)
    body = b"".join(response.streaming_content)
    return [p for p in body.split(b"--" + boundary.encode()) if p.strip(b"-\r\n")]


# --- The persona matrix -----------------------------------------------------------------------

MATRIX = {
    # request:                   creator, other group, anonymous, link holder
    "shared study metadata": (200, 404, 401, 200),
    "shared study frames": (200, 404, 401, 200),
    "other study of the patient": (200, 404, 401, 401),
    "study of another patient": (404, 200, 401, 401),
    "zip through the link": (404, 404, 404, 200),
    "patient page": (200, 404, 302, 302),
    "list of links": (200, 403, 401, 401),
    "revoke the link": (204, 404, 401, 401),
}
PERSONAS = ["creator", "other_group", "anonymous", "link_holder"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_share_link_persona_matrix(persona, sharer, member_b, stored, patient_a):
    """The creator is a member of patient A's group who may share; the other group's member sees
    patient B; the link holder has no session."""
    made = share(logged_in(sharer), stored["shared"][0].study_uid, allow_download=True)
    client = {
        "creator": lambda: logged_in(sharer),
        "other_group": lambda: logged_in(member_b),
        "anonymous": Client,
        "link_holder": lambda: visitor(made["url"]),
    }[persona]()
    wado = {
        "shared study metadata": endpoints(stored["shared"])["study metadata"],
        "shared study frames": endpoints(stored["shared"])["frames"],
        "other study of the patient": endpoints(stored["second_a"])["study metadata"],
        "study of another patient": endpoints(stored["b"])["study metadata"],
    }

    seen = {
        name: client.get(url, HTTP_ACCEPT=accept).status_code
        for name, (url, accept) in wado.items()
    }
    seen["zip through the link"] = client.get(f"/s/{made['id']}/study.zip").status_code
    seen["patient page"] = client.get(f"/patients/{patient_a.pk}/").status_code
    seen["list of links"] = client.get("/api/shares").status_code
    seen["revoke the link"] = client.delete(f"/api/shares/{made['id']}").status_code

    column = PERSONAS.index(persona)
    assert seen == {name: statuses[column] for name, statuses in MATRIX.items()}
