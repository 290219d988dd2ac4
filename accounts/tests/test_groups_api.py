from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts import rights

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_manager_lists_groups_with_their_rights(client, api_token, manager, group_a):
    body = client.get("/api/groups", **bearer(api_token(manager))).json()

    cardio = next(g for g in body["results"] if g["name"] == "Cardiologie")
    assert cardio["permissions"] == sorted(
        [rights.VIEW_GROUP_PATIENTS, rights.ADD_PATIENT, rights.CHANGE_PATIENT, rights.VIEW_IMAGES]
    )
    assert {"count", "next", "previous", "results"} <= set(body)


def test_a_manager_creates_and_patches_a_group(client, api_token, manager):
    token = api_token(manager)

    created = client.post(
        "/api/groups",
        {"name": "Neurologie", "permissions": [rights.VIEW_GROUP_PATIENTS]},
        content_type="application/json",
        **bearer(token),
    )
    patched = client.patch(
        f"/api/groups/{created.json()['id']}",
        {"permissions": [rights.VIEW_IMAGES, rights.UPLOAD_DICOM]},
        content_type="application/json",
        **bearer(token),
    )

    assert created.status_code == 201
    assert patched.status_code == 200
    assert patched.json() == {
        "id": created.json()["id"],
        "name": "Neurologie",
        "permissions": sorted([rights.VIEW_IMAGES, rights.UPLOAD_DICOM]),
    }


def test_an_unknown_permission_is_a_400_and_nothing_changes(client, api_token, manager, group_a):
    response = client.patch(
        f"/api/groups/{group_a.id}",
        {"name": "Renamed", "permissions": ["accounts.fly_to_the_moon"]},
        content_type="application/json",
        **bearer(api_token(manager)),
    )

    assert response.status_code == 400
    assert "permissions" in response.json()["errors"]
    group_a.refresh_from_db()
    assert group_a.name == "Cardiologie"


def test_a_manager_deletes_a_group(client, api_token, manager, group_b):
    response = client.delete(f"/api/groups/{group_b.id}", **bearer(api_token(manager)))

    assert response.status_code == 204
    assert not Group.objects.filter(pk=group_b.id).exists()


def test_the_group_list_does_not_query_per_group(
    client, api_token, manager, django_assert_max_num_queries
):
    from accounts.tests.factories import GroupFactory

    for i in range(15):
        GroupFactory(name=f"Service {i}", rights=[rights.VIEW_IMAGES])
    token = api_token(manager)

    with django_assert_max_num_queries(8):
        response = client.get("/api/groups", **bearer(token))

    assert len(response.json()["results"]) == 16
