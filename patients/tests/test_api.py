from __future__ import annotations

import pytest

from audit.models import AuditEvent
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "admin", "member_a", "member_b", "viewer_all", "no_rights")

FIELDS = {
    "id", "external_id", "family_name", "given_name", "birth_date", "sex", "notes", "groups",
    "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def call(client, api_token, admin, member_a, member_b, viewer_all, no_rights_user):
    """call(persona, method, url, data=None) with that persona's Bearer token."""
    personas = {
        "admin": admin, "member_a": member_a, "member_b": member_b,
        "viewer_all": viewer_all, "no_rights": no_rights_user,
    }  # fmt: skip
    tokens: dict[str, str] = {}

    def make(persona, method, url, data=None, **params):
        headers = {}
        if persona != "anonymous":
            tokens.setdefault(persona, api_token(personas[persona]))
            headers["HTTP_AUTHORIZATION"] = f"Bearer {tokens[persona]}"
        if method == "get":
            return client.get(url, data or {}, **headers)
        return getattr(client, method)(url, data, content_type="application/json", **headers)

    return make


# Who gets which status from each API operation on patient_a (group A); None: not asked.
API_MATRIX = {
    #                     anonymous admin member_a member_b viewer_all no_rights
    "who_gets_a_patient": (401,     200,  200,     404,     200,       404),
    "who_may_create":     (401,     201,  201,     None,    403,       403),
    "who_may_patch":      (401,     200,  200,     404,     403,       404),
    "who_may_delete":     (401,     204,  403,     404,     403,       404),
}  # fmt: skip


def cases(action: str) -> list[tuple[str, int]]:
    statuses = API_MATRIX[action]
    return [(p, s) for p, s in zip(PERSONAS, statuses, strict=True) if s is not None]


@pytest.mark.parametrize(("persona", "expected"), cases("who_gets_a_patient"))
def test_who_gets_a_patient(call, patient_a, persona, expected):
    response = call(persona, "get", f"/api/patients/{patient_a.pk}")

    assert response.status_code == expected
    if expected == 200:
        assert set(response.json()) == FIELDS
        assert response.json()["external_id"] == "CARDIO-001"
    else:
        assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize(
    ("persona", "listed"),
    {"admin": ["CARDIO-001", "RADIO-001"], "member_a": ["CARDIO-001"], "member_b": ["RADIO-001"],
     "viewer_all": ["CARDIO-001", "RADIO-001"], "no_rights": []}.items(),
)  # fmt: skip
def test_who_sees_whom_in_the_api_list(call, patient_a, patient_b, persona, listed):
    body = call(persona, "get", "/api/patients", {"ordering": "external_id"}).json()

    assert [p["external_id"] for p in body["results"]] == listed
    assert body["count"] == len(listed)


def test_anonymous_list_is_401(call):
    assert call("anonymous", "get", "/api/patients").status_code == 401


def test_the_api_searches_orders_and_pages(call, group_a):
    for i in range(30):
        PatientFactory(
            external_id=f"P{i:03d}", family_name="Martin" if i % 2 else "Moreau", groups=[group_a]
        )

    page2 = call("member_a", "get", "/api/patients", {"ordering": "-external_id", "page": 2}).json()
    search = call("member_a", "get", "/api/patients", {"search": "moreau"}).json()

    assert page2["count"] == 30
    assert [p["external_id"] for p in page2["results"]] == ["P004", "P003", "P002", "P001", "P000"]
    assert page2["previous"] is not None and page2["next"] is None
    assert search["count"] == 15


def test_an_out_of_range_page_is_a_json_404(call, patient_a):
    response = call("admin", "get", "/api/patients", {"page": 99})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("persona", "expected"), cases("who_may_create"))
def test_who_may_create(call, group_a, persona, expected):
    response = call(
        persona,
        "post",
        "/api/patients",
        {"external_id": "API-1", "family_name": "Api", "groups": [group_a.id]},
    )

    assert response.status_code == expected
    assert Patient.objects.filter(external_id="API-1").exists() is (expected == 201)


def test_create_returns_the_patient(call, group_a):
    response = call(
        "member_a", "post", "/api/patients",
        {"external_id": "API-2", "family_name": "Api", "given_name": "Deux",
         "birth_date": "1990-05-06", "sex": "M", "notes": "allergie", "groups": [group_a.id]},
    )  # fmt: skip

    body = response.json()
    assert body["birth_date"] == "1990-05-06"
    assert body["groups"] == [group_a.id]
    assert body["sex"] == "M"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"external_id": ""}, "external_id"), ({"external_id": "x" * 65}, "external_id"),
     ({"external_id": "a\\b"}, "external_id"), ({"external_id": "a\nb"}, "external_id"),
     ({"birth_date": "2999-12-31"}, "birth_date"), ({"birth_date": "not a date"}, "birth_date"),
     ({"sex": "Z"}, "sex"), ({"family_name": ""}, "family_name"), ({"groups": [987654]}, "groups")],
)  # fmt: skip
def test_bad_input_is_a_400_with_field_errors_and_nothing_saved(call, group_a, payload, field):
    data = {"external_id": "OK", "family_name": "Nom", "groups": [group_a.id], **payload}

    response = call("member_a", "post", "/api/patients", data)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert Patient.objects.count() == 0


def test_a_duplicate_external_id_is_a_400(call, patient_a, group_a):
    response = call(
        "admin", "post", "/api/patients", {"external_id": "CARDIO-001", "family_name": "X"}
    )

    assert response.status_code == 400
    assert "external_id" in response.json()["errors"]


def test_a_member_may_not_assign_a_foreign_group(call, group_b):
    foreign = {"external_id": "F", "family_name": "F", "groups": [group_b.id]}
    response = call("member_a", "post", "/api/patients", foreign)

    assert response.status_code == 400
    assert "groups" in response.json()["errors"]


@pytest.mark.parametrize(("persona", "expected"), cases("who_may_patch"))
def test_who_may_patch(call, patient_a, persona, expected):
    response = call(persona, "patch", f"/api/patients/{patient_a.pk}", {"notes": "vu"})

    patient_a.refresh_from_db()
    assert response.status_code == expected
    assert (patient_a.notes == "vu") is (expected == 200)


def test_patch_changes_only_the_given_fields(call, patient_a):
    response = call("member_a", "patch", f"/api/patients/{patient_a.pk}", {"given_name": "Annie"})

    body = response.json()
    assert body["given_name"] == "Annie"
    assert body["family_name"] == "Durand"
    assert body["external_id"] == "CARDIO-001"


def test_put_replaces_the_record(call, patient_a, group_a):
    patient_a.notes = "ancienne note"
    patient_a.save()

    response = call(
        "member_a",
        "put",
        f"/api/patients/{patient_a.pk}",
        {"external_id": "CARDIO-001", "family_name": "Durand", "groups": [group_a.id]},
    )

    assert response.status_code == 200
    assert response.json()["notes"] == ""
    assert response.json()["given_name"] == ""


def test_put_needs_the_required_fields(call, patient_a):
    response = call("member_a", "put", f"/api/patients/{patient_a.pk}", {"notes": "x"})

    assert response.status_code == 400
    assert {"external_id", "family_name"} <= set(response.json()["errors"])


@pytest.mark.parametrize(("persona", "expected"), cases("who_may_delete"))
def test_who_may_delete(call, patient_a, persona, expected):
    response = call(persona, "delete", f"/api/patients/{patient_a.pk}")

    assert response.status_code == expected
    assert Patient.objects.filter(pk=patient_a.pk).exists() is (expected != 204)


def test_every_write_is_audited(call, group_a):
    record = {"external_id": "AUD", "family_name": "Audit", "groups": [group_a.id]}
    created = call("admin", "post", "/api/patients", record).json()
    call("admin", "patch", f"/api/patients/{created['id']}", {"family_name": "Audité"})
    call("admin", "delete", f"/api/patients/{created['id']}")

    events = list(AuditEvent.objects.filter(patient_external_id="AUD").order_by("id"))
    assert [e.action for e in events] == ["patient.create", "patient.update", "patient.delete"]
    assert all(e.actor_email == "chef@hopital.example" for e in events)
    assert events[1].changes == {"family_name": ["Audit", "Audité"]}
    assert events[0].changes["groups"] == [None, ["Cardiologie"]]


def test_the_api_list_query_count_does_not_grow_with_the_page(
    client, api_token, member_a, group_a, django_assert_max_num_queries
):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(member_a)}"}
    PatientFactory(groups=[group_a])
    with django_assert_max_num_queries(20) as few:
        client.get("/api/patients", **headers)
    for _ in range(24):
        PatientFactory(groups=[group_a])

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/patients", **headers)

    assert len(response.json()["results"]) == 25


def test_the_schema_describes_the_patient_api(client):
    paths = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "paths"
    ]

    assert {"get", "post"} <= set(paths["/api/patients"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/patients/{id}"])
