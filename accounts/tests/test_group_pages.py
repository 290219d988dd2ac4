"""Groups as administrators manage them: rights by area with what each allows, the list naming
them, deletion (audited; members lose the rights), and the users' last login."""

from __future__ import annotations

import pytest

from accounts import rights
from accounts.tests.factories import GroupFactory, UserFactory
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_group_form_shows_rights_by_area_with_what_they_allow(login_client, manager):
    body = login_client(manager).get("/accounts/groups/new/").content.decode()

    areas = [body.index(area) for area in ("Patients", "Images", "Administration")]
    assert areas == sorted(areas)
    assert "Voir les images — ouvrir les examens dans la visionneuse" in body


def test_the_group_list_names_the_rights(login_client, manager):
    GroupFactory(name="Radiologie", rights=[rights.VIEW_IMAGES, rights.VIEW_GROUP_PATIENTS])

    body = login_client(manager).get("/accounts/groups/").content.decode()

    row = body[body.index("Radiologie") :].split("</tr>")[0]
    assert "Voir les patients de mes groupes, Voir les images" in row


def test_deleting_a_group_needs_the_box_and_is_audited(login_client, manager):
    group = GroupFactory(name="Radiologie", rights=[rights.VIEW_IMAGES])
    member = UserFactory(email="radio@hopital.example", groups=[group])
    client = login_client(manager)

    refused = client.post(f"/accounts/groups/{group.pk}/delete/")
    assert refused.status_code == 302 and group.__class__.objects.filter(pk=group.pk).exists()

    done = client.post(f"/accounts/groups/{group.pk}/delete/", {"confirm": "yes"})

    assert done.status_code == 302 and done["Location"] == "/accounts/groups/"
    assert not group.__class__.objects.filter(pk=group.pk).exists()
    member.refresh_from_db()
    assert not member.has_perm(rights.VIEW_IMAGES)
    assert AuditEvent.objects.filter(action="group.delete", object_repr="Radiologie").exists()


def test_only_account_managers_delete_groups(login_client, member_a, group_a):
    client = login_client(member_a)

    answer = client.post(f"/accounts/groups/{group_a.pk}/delete/", {"confirm": "yes"})

    assert answer.status_code == 403


def test_the_user_list_shows_the_last_login(login_client, manager, member_a):
    body = login_client(manager).get("/accounts/users/").content.decode()

    assert "Dernière connexion" in body
    assert "jamais" in body  # member_a never logged in


def test_deleting_a_group_names_the_patients_it_would_leave_without_a_care_group(
    login_client, manager
):
    from patients.tests.factories import PatientFactory

    radiology = GroupFactory(name="Radiologie")
    other = GroupFactory(name="Cardiologie")
    PatientFactory(external_id="ALONE-1", groups=[radiology])
    PatientFactory(external_id="SHARED-1", groups=[radiology, other])
    client = login_client(manager)

    page = client.get(f"/accounts/groups/{radiology.pk}/").content.decode()
    client.post(f"/accounts/groups/{radiology.pk}/delete/", {"confirm": "yes"})

    warning = page[page.index('role="alert"') :].split("</p>")[0]
    assert "ALONE-1" in warning and "SHARED-1" not in warning
    event = AuditEvent.objects.get(action="group.delete")
    assert event.changes["patients left without a care group"] == [["ALONE-1"], None]
