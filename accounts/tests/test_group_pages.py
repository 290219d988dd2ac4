from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from accounts import rights

pytestmark = pytest.mark.django_db


def right(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_the_group_form_lists_every_portal_right_as_a_checkbox(login_client, manager):
    body = (
        login_client(manager)
        .get("/accounts/groups/new/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )

    for label in [
        "View the patients of my groups",
        "View all patients",
        "Upload DICOM files",
        "Manage users and groups",
        "View the audit log",
        "View images",
    ]:
        assert label in body
    assert body.count('type="checkbox" name="permissions"') == len(rights.ALL_RIGHTS)


def test_a_manager_creates_a_group_with_rights(login_client, manager):
    response = login_client(manager).post(
        "/accounts/groups/new/",
        {
            "name": "Neurologie",
            "permissions": [right(rights.VIEW_GROUP_PATIENTS).pk, right(rights.VIEW_IMAGES).pk],
        },
    )

    assert response.status_code == 302
    group = Group.objects.get(name="Neurologie")
    assert {p.codename for p in group.permissions.all()} == {"view_group_patients", "view_images"}


def test_a_member_gets_the_rights_of_their_group(login_client, manager, member_a, group_a):
    assert not member_a.has_perm(rights.UPLOAD_DICOM)

    login_client(manager).post(
        f"/accounts/groups/{group_a.pk}/",
        {"name": group_a.name, "permissions": [right(rights.UPLOAD_DICOM).pk]},
    )

    member_a = type(member_a).objects.get(pk=member_a.pk)  # fresh permission cache
    assert member_a.has_perm(rights.UPLOAD_DICOM)
    assert not member_a.has_perm(rights.VIEW_IMAGES)


def test_a_duplicate_group_name_is_a_field_error(login_client, manager, group_a):
    response = login_client(manager).post(
        "/accounts/groups/new/", {"name": "cardiologie"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "A group with this name already exists." in response.content.decode()
    assert Group.objects.filter(name__iexact="cardiologie").count() == 1


def test_the_group_list_searches(login_client, manager, group_a, group_b):
    body = login_client(manager).get("/accounts/groups/", {"search": "radio"}).content.decode()

    assert "Radiologie" in body
    assert "Cardiologie" not in body


def test_a_member_cannot_edit_a_group(login_client, member_a, group_a):
    response = login_client(member_a).post(f"/accounts/groups/{group_a.pk}/", {"name": "Pirate"})

    assert response.status_code == 403
    group_a.refresh_from_db()
    assert group_a.name == "Cardiologie"
