from __future__ import annotations

import csv
import datetime
import io
import json
import re

import pytest
from django.db import DatabaseError, connection, transaction

from accounts import services as account_services
from audit.models import Action, AuditEvent
from patients import services as patient_services
from patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_audit_table():
    """Make PostgreSQL itself refuse audit inserts: a real failed write, no mock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit storage full'; END; $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
        )
    yield
    # The test's transaction is rolled back, taking the trigger with it.


def test_a_failed_audit_write_fails_the_action(admin, group_a, broken_audit_table):
    with pytest.raises(DatabaseError), transaction.atomic():
        patient_services.patient_create(
            actor=admin, external_id="LOST", family_name="X", groups=[group_a]
        )

    assert not Patient.objects.filter(external_id="LOST").exists()


def test_a_failed_audit_write_on_the_page_is_a_clear_503_and_nothing_saved(
    login_client, admin, group_a, broken_audit_table
):
    response = login_client(admin).post(
        "/patients/new/",
        {"external_id": "LOST", "family_name": "X", "groups": [group_a.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 503
    assert "Nothing was saved" in response.content.decode()
    assert not Patient.objects.filter(external_id="LOST").exists()


def test_a_failed_audit_write_in_the_api_is_a_json_503(
    client, api_token, admin, group_a, broken_audit_table
):
    token = api_token(admin)  # logging in writes no audit event

    response = client.post(
        "/api/patients",
        {"external_id": "LOST", "family_name": "X"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert not Patient.objects.filter(external_id="LOST").exists()


def test_audit_events_cannot_be_changed_or_deleted(admin, group_a):
    patient_services.patient_create(
        actor=admin, external_id="P1", family_name="X", groups=[group_a]
    )
    event = AuditEvent.objects.get()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_email="someone@else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()


def test_user_and_group_changes_are_audited(admin, group_a):
    user = account_services.user_create(
        actor=admin, email="new@hopital.example", password="Un-Secret-Solide-8", groups=[group_a]
    )
    account_services.user_update(actor=admin, user=user, is_active=False)
    account_services.user_set_password(actor=admin, user=user, password="Autre-Secret-Solide-9")
    group = account_services.group_create(actor=admin, name="Neuro")
    account_services.group_update(actor=admin, group=group, name="Neurologie")
    account_services.group_delete(actor=admin, group=group)
    account_services.user_delete(actor=admin, user=user)

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "user.create", "user.update", "user.password", "group.create", "group.update",
        "group.delete", "user.delete",
    ]  # fmt: skip
    update = AuditEvent.objects.get(action="user.update")
    assert update.changes == {"is_active": [True, False]}
    assert "password" not in str(AuditEvent.objects.get(action="user.create").changes)


@pytest.fixture
def trail(admin, member_a, group_a):
    p1 = patient_services.patient_create(
        actor=admin, external_id="P1", family_name="Un", groups=[group_a]
    )
    patient_services.patient_create(
        actor=member_a, external_id="P2", family_name="Deux", groups=[group_a]
    )
    patient_services.patient_update(actor=member_a, patient=p1, notes="vu")
    return p1


@pytest.mark.parametrize(
    ("persona", "expected"), [("anonymous", 302), ("member_a", 403), ("admin", 200)]
)
def test_who_sees_the_audit_page(client, login_client, trail, admin, member_a, persona, expected):
    c = (
        client
        if persona == "anonymous"
        else login_client({"admin": admin, "member_a": member_a}[persona])
    )

    assert c.get("/audit/").status_code == expected
    assert c.get("/audit/export.csv").status_code == expected


def test_the_audit_page_shows_who_did_what(login_client, admin, trail):
    body = login_client(admin).get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert body.count("Patient created") >= 2
    assert "Patient changed" in body
    assert "alice@hopital.example" in body


def test_the_audit_page_filters_by_user_patient_and_date(login_client, admin, member_a, trail):
    client = login_client(admin)
    today = datetime.date.today().isoformat()

    by_user = client.get(
        "/audit/", {"actor": member_a.pk}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    by_patient = client.get(
        "/audit/", {"patient": "P2"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    by_old_date = client.get(
        "/audit/", {"date_to": "2000-01-01"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    by_today = client.get(
        "/audit/", {"date_from": today}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "2 events" in by_user
    assert "1 event" in by_patient
    assert "0 events" in by_old_date
    assert "4 events" in by_today  # the trail's 3, and the admin's own login


def test_the_audit_trail_exports_as_csv_with_the_filters(login_client, admin, member_a, trail):
    client = login_client(admin)
    client.cookies["django_language"] = "fr"
    response = client.get("/audit/export.csv", {"actor": member_a.pk})

    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # the BOM French Excel needs to read UTF-8
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, rows = lines[0], [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    assert header[:4] == ["quand", "identifiant de l'auteur", "auteur", "action"]
    assert [r["action"] for r in rows] == ["Patient modifié", "Patient créé"]
    assert {r["auteur"] for r in rows} == {"alice@hopital.example"}
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", rows[0]["quand"])
    assert rows[0][header[-1]] == "notes\u00a0: vu"  # French name and typography, not a dict


def test_the_json_export_has_the_same_rows(login_client, admin, member_a, trail):
    response = login_client(admin).get("/audit/export.json", {"actor": member_a.pk})

    rows = json.loads(b"".join(response.streaming_content))
    assert [r["action"] for r in rows] == ["patient.update", "patient.create"]
    assert rows[0]["patient_external_id"] == "P1"
    assert isinstance(rows[0]["changes"], dict)


def test_a_cell_a_spreadsheet_would_run_is_neutralised(login_client, admin):
    from audit.models import AuditEvent

    AuditEvent.objects.create(
        actor_email="x@hopital.example", action="patient.create", object_type="patient",
        object_repr='=HYPERLINK("http://evil.example","x")', patient_external_id="+33",
    )  # fmt: skip

    raw = b"".join(login_client(admin).get("/audit/export.csv").streaming_content)

    cells = [cell for line in csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
             for cell in line]  # fmt: skip
    assert '\'=HYPERLINK("http://evil.example","x")' in cells and "'+33" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_the_page_shows_changes_as_before_and_after(login_client, admin, trail):
    body = login_client(admin).get("/audit/", {"patient": "P1"}).content.decode()

    # French puts a (non-breaking) space before the colon.
    assert "<strong>notes</strong>\u00a0: vu</div>" in body
    assert "<strong>groupes de soins</strong>\u00a0: Cardiologie</div>" in body  # French name
    english = login_client(admin).get("/audit/", {"patient": "P1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "<strong>notes</strong>: vu</div>" in english.content.decode()
    assert "None" not in body


def test_changes_made_in_the_django_admin_are_audited(client, group_a):
    from accounts.tests.factories import UserFactory

    root = UserFactory(email="root@hopital.example", is_staff=True, is_superuser=True)
    client.force_login(root)

    response = client.post(
        "/admin/patients/patient/add/",
        {"external_id": "ADM-1", "family_name": "Admin", "given_name": "", "sex": "", "notes": "",
         "groups": [group_a.pk]},
    )  # fmt: skip
    patient = Patient.objects.get(external_id="ADM-1")
    client.post(f"/admin/patients/patient/{patient.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    events = list(AuditEvent.objects.exclude(action=Action.LOGIN).order_by("id"))
    assert [e.action for e in events] == ["patient.create", "patient.delete"]
    assert events[0].actor_email == "root@hopital.example"
    assert events[0].changes["groups"] == [None, ["Cardiologie"]]
    assert not Patient.objects.filter(external_id="ADM-1").exists()


def test_the_trail_filters_by_action(login_client, admin, trail):
    body = login_client(admin).get("/audit/", {"action": "patient.create"}).content.decode()

    assert "Patient créé" in body and "Patient modifié" not in body.split("<tbody>")[1]


def test_the_patient_page_shows_who_viewed_or_changed_the_record_to_audit_readers(
    login_client, admin, member_a, trail
):
    patient = Patient.objects.get(external_id="P1")
    patient.groups.add(*member_a.groups.all())

    for_auditor = login_client(admin).get(f"/patients/{patient.pk}/").content.decode()
    for_member = login_client(member_a).get(f"/patients/{patient.pk}/").content.decode()

    panel = for_auditor[for_auditor.index('id="record-audit"') :].split("</section>")[0]
    assert "alice@hopital.example" in panel and "Patient modifié" in panel
    assert 'id="record-audit"' not in for_member


def test_an_invalid_filter_exports_nothing_rather_than_everything(login_client, admin, trail):
    client = login_client(admin)

    answer = client.get("/audit/export.json", {"patient": "P1", "date_from": "not-a-date"})

    assert json.loads(b"".join(answer.streaming_content)) == []
    assert client.get("/audit/export.json", {"patient": "P1"}).status_code == 200


def test_only_study_labels_have_their_dates_localized(login_client, admin):
    AuditEvent.objects.create(
        actor_email="x@hopital.example", action="patient.create", object_type="patient",
        object_repr="MARTIN Paul (2024-03-10)",
    )  # fmt: skip
    AuditEvent.objects.create(
        actor_email="x@hopital.example", action="images.view", object_type="study",
        object_id="1.2.3", object_repr="Scanner, 2024-03-10",
    )  # fmt: skip

    body = login_client(admin).get("/audit/").content.decode()

    assert "MARTIN Paul (2024-03-10)" in body  # an identifier, kept as it is
    assert "Scanner, 10/03/2024" in body


def test_the_record_filter_is_the_patient_record_only(login_client, admin, trail):
    twin = patient_services.patient_create(
        actor=admin, external_id=str(trail.pk), family_name="Homonyme", groups=[]
    )  # an external ID equal to the first record's portal id

    body = login_client(admin).get("/audit/", {"record": trail.pk}).content.decode()

    table = body.split("<tbody>")[1]
    assert "Homonyme" not in table and twin.pk != trail.pk
    assert "P1" in table
