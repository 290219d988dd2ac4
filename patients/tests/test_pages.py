from __future__ import annotations

import datetime

import pytest
from django.test import Client

from audit.models import Action, AuditEvent
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas(admin, member_a, member_b, viewer_all, no_rights_user):
    return {
        "admin": admin, "member_a": member_a, "member_b": member_b,
        "viewer_all": viewer_all, "no_rights": no_rights_user,
    }  # fmt: skip


def as_(persona, personas, login_client) -> Client:
    return Client() if persona == "anonymous" else login_client(personas[persona])


# Who gets what for patient_a (group A). 302 = sent to login (or, deleting, done).
PAGE_MATRIX = {
    #                                anonymous admin member_a member_b viewer_all no_rights
    "who_sees_the_detail_page":      (302,     200,  200,     404,     200,       404),
    "who_may_open_the_edit_page":    (302,     200,  200,     404,     403,       404),
    "who_may_delete":                (302,     302,  403,     404,     403,       404),
    "who_may_open_the_create_page":  (302,     200,  200,     200,     403,       403),
}  # fmt: skip
PERSONAS = ("anonymous", "admin", "member_a", "member_b", "viewer_all", "no_rights")


def cases(page: str) -> list[tuple[str, int]]:
    return list(zip(PERSONAS, PAGE_MATRIX[page], strict=True))


@pytest.mark.parametrize(("persona", "expected"), cases("who_sees_the_detail_page"))
def test_who_sees_the_detail_page(persona, expected, personas, login_client, patient_a):
    response = as_(persona, personas, login_client).get(f"/patients/{patient_a.pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(("persona", "expected"), cases("who_may_open_the_edit_page"))
def test_who_may_open_the_edit_page(persona, expected, personas, login_client, patient_a):
    response = as_(persona, personas, login_client).get(f"/patients/{patient_a.pk}/edit/")

    assert response.status_code == expected


@pytest.mark.parametrize(("persona", "expected"), cases("who_may_delete"))
def test_who_may_delete(persona, expected, personas, login_client, patient_a):
    response = as_(persona, personas, login_client).post(
        f"/patients/{patient_a.pk}/delete/", {"confirm": "yes"}
    )

    assert response.status_code == expected
    assert Patient.objects.filter(pk=patient_a.pk).exists() is (
        expected != 302 or persona == "anonymous"
    )


def test_delete_needs_post(login_client, admin, patient_a):
    assert login_client(admin).get(f"/patients/{patient_a.pk}/delete/").status_code == 405


@pytest.mark.parametrize(("persona", "expected"), cases("who_may_open_the_create_page"))
def test_who_may_open_the_create_page(persona, expected, personas, login_client):
    assert as_(persona, personas, login_client).get("/patients/new/").status_code == expected


@pytest.mark.parametrize(
    ("persona", "listed"),
    {"admin": {"CARDIO-001", "RADIO-001"}, "member_a": {"CARDIO-001"}, "member_b": {"RADIO-001"},
     "viewer_all": {"CARDIO-001", "RADIO-001"}, "no_rights": set()}.items(),
)  # fmt: skip
def test_who_sees_whom_in_the_list(persona, listed, personas, login_client, patient_a, patient_b):
    body = login_client(personas[persona]).get("/patients/").content.decode()

    assert {pid for pid in ["CARDIO-001", "RADIO-001"] if pid in body} == listed


def test_anonymous_list_goes_to_login(client):
    assert client.get("/patients/")["Location"] == "/accounts/login/?next=/patients/"


def test_the_list_searches_and_counts(login_client, viewer_all, patient_a, patient_b):
    body = (
        login_client(viewer_all)
        .get("/patients/", {"search": "petit"}, HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )

    assert "RADIO-001" in body and "CARDIO-001" not in body
    assert "1 patient" in body


def test_an_htmx_search_returns_the_table_fragment(login_client, viewer_all, patient_a, patient_b):
    response = login_client(viewer_all).get(
        "/patients/", {"search": "durand"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="patient-table"')
    assert "CARDIO-001" in body and "RADIO-001" not in body
    assert "HX-Request" in response["Vary"]


def test_the_list_pages_by_25(login_client, viewer_all, group_a):
    for i in range(30):
        PatientFactory(external_id=f"P{i:03d}", family_name=f"Nom{i:03d}", groups=[group_a])
    client = login_client(viewer_all)

    first = client.get("/patients/", {"ordering": "external_id"}).content.decode()
    second = client.get("/patients/", {"ordering": "external_id", "page": 2}).content.decode()

    assert "P000" in first and "P024" in first and "P025" not in first
    assert "P025" in second and "P029" in second and "P000" not in second


def test_the_list_sorts_by_a_column(login_client, viewer_all, patient_a, patient_b):
    body = login_client(viewer_all).get("/patients/", {"ordering": "-external_id"}).content.decode()

    assert body.index("RADIO-001") < body.index("CARDIO-001")


def test_the_list_query_count_does_not_grow_with_the_page(
    login_client, member_a, group_a, django_assert_max_num_queries
):
    client = login_client(member_a)
    PatientFactory(groups=[group_a])
    client.get("/patients/")  # warm the session and permission caches
    with django_assert_max_num_queries(20) as few:
        client.get("/patients/")
    for _ in range(24):
        PatientFactory(groups=[group_a])

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/patients/")

    assert response.content.decode().count("/edit/") == 0  # list rows link to details only
    assert response.content.decode().count('href="/patients/') >= 25


def test_a_member_creates_a_patient_in_their_group(login_client, member_a, group_a):
    response = login_client(member_a).post(
        "/patients/new/",
        {"external_id": "  NEW-1  ", "family_name": "Lemoine", "given_name": "Jeanne",
         "birth_date": "1980-02-03", "sex": "F", "groups": [group_a.pk]},
    )  # fmt: skip

    patient = Patient.objects.get(external_id="NEW-1")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert patient.birth_date == datetime.date(1980, 2, 3)
    assert patient.created_by == member_a
    assert list(patient.groups.all()) == [group_a]


def test_a_member_cannot_put_a_patient_in_a_group_they_do_not_belong_to(
    login_client, member_a, group_b
):
    response = login_client(member_a).post(
        "/patients/new/", {"external_id": "X1", "family_name": "X", "groups": [group_b.pk]}
    )

    assert response.status_code == 200
    assert not Patient.objects.filter(external_id="X1").exists()


BAD_INPUT = [
    ({"external_id": ""}, "external_id"),
    ({"external_id": "   "}, "external_id"),
    ({"external_id": "X" * 65}, "external_id"),
    ({"external_id": "A\\B"}, "external_id"),
    ({"external_id": "A\tB"}, "external_id"),
    ({"family_name": ""}, "family_name"),
    ({"birth_date": "2999-01-01"}, "birth_date"),
    ({"birth_date": "31/02/2000"}, "birth_date"),
    ({"sex": "X"}, "sex"),
]


@pytest.mark.parametrize(("override", "field"), BAD_INPUT)
def test_bad_input_is_a_field_error_and_nothing_is_saved(
    login_client, member_a, group_a, override, field
):
    data = {"external_id": "OK-1", "family_name": "Nom", "groups": [group_a.pk], **override}

    response = login_client(member_a).post("/patients/new/", data, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<form")
    assert f'id="id_{field}_error"' in body
    assert Patient.objects.count() == 0
    assert not AuditEvent.objects.exclude(action=Action.LOGIN).exists()


def test_a_duplicate_external_id_says_so(login_client, member_a, group_a, patient_a):
    response = login_client(member_a).post(
        "/patients/new/",
        {"external_id": "CARDIO-001", "family_name": "Autre", "groups": [group_a.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "A patient with this external ID already exists." in response.content.decode()
    assert Patient.objects.filter(external_id="CARDIO-001").count() == 1


def test_the_error_messages_are_french_by_default(login_client, member_a, group_a):
    response = login_client(member_a).post(
        "/patients/new/", {"external_id": "A\\B", "family_name": "X", "groups": [group_a.pk]}
    )

    assert "barre oblique inverse" in response.content.decode()


def test_a_member_edits_a_patient_and_keeps_groups_they_do_not_manage(
    login_client, member_a, group_a, group_b
):
    patient = PatientFactory(external_id="SHARED", family_name="Avant", groups=[group_a, group_b])

    response = login_client(member_a).post(
        f"/patients/{patient.pk}/edit/",
        {"external_id": "SHARED", "family_name": "Après", "groups": [group_a.pk]},
    )

    patient.refresh_from_db()
    assert response.status_code == 302
    assert patient.family_name == "Après"
    assert set(patient.groups.all()) == {group_a, group_b}


def test_an_edit_on_the_page_is_audited_with_its_changes(login_client, member_a, group_a):
    patient = PatientFactory(
        external_id="E-1", family_name="Avant", given_name="Anne", groups=[group_a]
    )

    login_client(member_a).post(
        f"/patients/{patient.pk}/edit/",
        {
            "external_id": "E-1",
            "family_name": "Après",
            "given_name": "Anne",
            "notes": "vu",
            "groups": [group_a.pk],
        },
    )

    event = AuditEvent.objects.get(action=Action.PATIENT_UPDATE)
    assert event.changes == {"family_name": ["Avant", "Après"], "notes": ["", "vu"]}


def test_an_htmx_edit_redirects_the_client(login_client, member_a, group_a, patient_a):
    response = login_client(member_a).post(
        f"/patients/{patient_a.pk}/edit/",
        {"external_id": "CARDIO-001", "family_name": "Durand", "groups": [group_a.pk]},
        HTTP_HX_REQUEST="true",
    )

    assert response["HX-Redirect"] == f"/patients/{patient_a.pk}/"


def test_an_admin_deletes_a_patient(login_client, admin, patient_a):
    response = login_client(admin).post(f"/patients/{patient_a.pk}/delete/", {"confirm": "yes"})

    assert response["Location"] == "/patients/"
    assert not Patient.objects.filter(pk=patient_a.pk).exists()


def test_a_delete_without_the_confirmation_deletes_nothing(login_client, admin, patient_a):
    response = login_client(admin).post(f"/patients/{patient_a.pk}/delete/")

    assert response["Location"] == f"/patients/{patient_a.pk}/"
    assert Patient.objects.filter(pk=patient_a.pk).exists()


def test_the_detail_page_has_a_studies_section(login_client, member_a, patient_a):
    body = login_client(member_a).get(f"/patients/{patient_a.pk}/").content.decode()

    assert 'id="studies"' in body
    assert "CARDIO-001" in body


def test_an_unknown_patient_is_404(login_client, admin):
    assert login_client(admin).get("/patients/999999/").status_code == 404


def test_the_dashboard_counts_my_patients_and_shows_the_latest(
    login_client, member_a, patient_a, patient_b
):
    body = login_client(member_a).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "You can see 1 patient." in body
    assert "CARDIO-001" in body and "RADIO-001" not in body
