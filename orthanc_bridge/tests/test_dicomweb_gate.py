"""The decision Nginx asks for before it streams WADO bytes itself (dicomweb.gate).

Allowed: 204, kept by Nginx for DICOMWEB_DECISION_SECONDS, with the query Orthanc must get.
Anything else: 403 never kept, so Nginx hands the request to the DICOMweb view, whose answers
(and their exact statuses) are tested in test_dicomweb.py.
"""

from __future__ import annotations

import io

import pytest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

DECISION = "/internal/dicom-web/decision"


@pytest.fixture
def stored(orthanc, patient_a, study_a):
    for instance in study_a:
        orthanc.store_instance(io.BytesIO(instance.content))
    return study_a[0].study_uid


def ask(client: Client, uri: str, method: str = "GET", **headers):
    return client.get(DECISION, HTTP_X_ORIGINAL_URI=uri, HTTP_X_ORIGINAL_METHOD=method, **headers)


def test_a_viewer_of_the_study_is_allowed_and_nginx_may_keep_it(
    login_client, member_a, stored, settings
):
    settings.DICOMWEB_DECISION_SECONDS = 7

    answer = ask(login_client(member_a), f"/dicom-web/studies/{stored}/series/1.2.3/metadata")

    assert answer.status_code == 204
    assert answer["X-Accel-Expires"] == "7"
    assert answer["X-Orthanc-Query"] == ""


def test_the_query_orthanc_gets_is_decoded_as_the_django_path_does(login_client, member_a, stored):
    uri = (
        f"/dicom-web/studies/{stored}/series/1.2.3/instances/1.2.3.4/rendered"
        "?window=40%2C400%2Clinear&includefield=00081030%2C00080060&quality=90"
    )

    answer = ask(login_client(member_a), uri)

    assert answer.status_code == 204
    assert answer["X-Orthanc-Query"] == (
        "?window=40,400,linear&includefield=00081030&includefield=00080060&quality=90"
    )


def test_a_bearer_token_is_a_credential_too(api_token, member_a, stored):
    token = api_token(member_a)

    answer = ask(Client(), f"/dicom-web/studies/{stored}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert answer.status_code == 204


@pytest.mark.parametrize(
    "who",
    ["anonymous", "other group", "no image right", "bad token"],
)
def test_every_refusal_is_handed_back_to_the_view_and_never_kept(
    who, login_client, member_b, no_rights_user, stored
):
    headers = {}
    client = Client()
    if who == "other group":
        client = login_client(member_b)
    elif who == "no image right":
        client = login_client(no_rights_user)
    elif who == "bad token":
        headers["HTTP_AUTHORIZATION"] = "Bearer not-a-token"

    answer = ask(client, f"/dicom-web/studies/{stored}/metadata", **headers)

    assert answer.status_code == 403
    assert answer["X-Accel-Expires"] == "0"
    assert "X-Orthanc-Query" not in answer


@pytest.mark.parametrize(
    "uri, method",
    [
        ("/dicom-web/studies/{uid}/metadata", "POST"),  # STOW and writes: Django's
        ("/dicom-web/studies/{uid}/series/1.2.3/thumbnail", "GET"),  # made by the portal
        ("/dicom-web/studies", "GET"),  # QIDO: filtered by the portal
        ("/dicom-web/studies/{uid}/%2e%2e/%2e%2e/patients", "GET"),  # encoded: Django decodes
        ("/dicom-web/studies/{uid}/../../../tools/find", "GET"),
        ("/dicom-web/studies/{uid}/series/1.2.3/metadata/extra", "GET"),
        ("/dicom-web/studies/{uid}//metadata", "GET"),
        ("/wado?studyUID={uid}", "GET"),
        ("", "GET"),
    ],
)
def test_anything_outside_the_wado_grammar_is_not_for_nginx(
    uri, method, login_client, admin, stored
):
    assert ask(login_client(admin), f"/dicom-web/studies/{stored}").status_code == 204

    answer = ask(login_client(admin), uri.format(uid=stored), method)

    assert answer.status_code == 403
    assert answer["X-Accel-Expires"] == "0"


def test_images_viewed_is_recorded_once_per_window(login_client, member_a, stored):
    client = login_client(member_a)
    for path in ("metadata", "series/1.2.3/metadata", "series/1.2.3/instances/1.2.3.4/frames/1"):
        assert ask(client, f"/dicom-web/studies/{stored}/{path}").status_code == 204

    events = AuditEvent.objects.filter(action="images.view", actor_id=member_a.pk)
    assert [e.object_id for e in events] == [stored]
    assert events.get().patient_external_id == "CARDIO-001"


def test_orthanc_down_is_not_a_decision_nginx_could_keep(login_client, member_a, indexed_study_a):
    """The decision confirms the study in Orthanc; down, the view answers 503."""
    answer = ask(login_client(member_a), f"/dicom-web/studies/{indexed_study_a.study_uid}/metadata")

    assert answer.status_code == 403
    assert answer["X-Accel-Expires"] == "0"


def test_the_decision_is_made_afresh_so_nginx_alone_keeps_it(
    login_client, member_a, group_a, stored
):
    """Nginx keeps an "allowed" for DICOMWEB_DECISION_SECONDS; the portal's own cache must not
    add a second window on top: a removed right is refused at the next ask."""
    client = login_client(member_a)
    uri = f"/dicom-web/studies/{stored}/metadata"
    assert client.get(uri).status_code == 200  # the DICOMweb view caches its decision
    assert ask(client, uri).status_code == 204

    member_a.groups.remove(group_a)

    assert ask(client, uri).status_code == 403
