from __future__ import annotations

import pytest

from accounts import rights
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/users"),
        ("post", "/api/users"),
        ("get", "/api/users/1"),
        ("patch", "/api/users/1"),
        ("delete", "/api/users/1"),
        ("get", "/api/groups"),
        ("post", "/api/groups"),
        ("get", "/api/groups/1"),
        ("patch", "/api/groups/1"),
        ("delete", "/api/groups/1"),
    ],
)
def test_anonymous_gets_401_and_a_user_without_the_right_403(
    client, api_token, member_a, method, url
):
    anonymous = getattr(client, method)(url, content_type="application/json")
    forbidden = getattr(client, method)(
        url, content_type="application/json", **bearer(api_token(member_a))
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"


def test_a_manager_lists_users_paginated(client, api_token, manager, member_a, member_b):
    response = client.get("/api/users", {"page_size": 2}, **bearer(api_token(manager)))

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None and body["previous"] is None
    assert set(body["results"][0]) == {"id", "email", "name", "is_active", "groups"}


def test_the_user_list_searches(client, api_token, manager, member_a, member_b):
    body = client.get("/api/users", {"search": "bob"}, **bearer(api_token(manager))).json()

    assert [u["email"] for u in body["results"]] == ["bob@hopital.example"]


def test_a_manager_creates_a_user_with_a_password(client, api_token, manager, group_a):
    response = client.post(
        "/api/users",
        {
            "email": "Api.User@hopital.example",
            "name": "API",
            "groups": [group_a.id],
            "password": "Mot-De-Passe-Solide-1",
        },
        content_type="application/json",
        **bearer(api_token(manager)),
    )

    assert response.status_code == 201
    assert response.json()["email"] == "api.user@hopital.example"
    assert response.json()["groups"] == [group_a.id]
    assert "password" not in response.json()
    assert User.objects.get(email="api.user@hopital.example").check_password(
        "Mot-De-Passe-Solide-1"
    )


def test_creating_a_duplicate_user_is_a_400_with_field_errors(client, api_token, manager, member_a):
    response = client.post(
        "/api/users",
        {"email": "ALICE@hopital.example"},
        content_type="application/json",
        **bearer(api_token(manager)),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "email" in response.json()["errors"]


def test_an_unknown_group_is_a_400(client, api_token, manager):
    response = client.post(
        "/api/users",
        {"email": "x@hopital.example", "groups": [987654]},
        content_type="application/json",
        **bearer(api_token(manager)),
    )

    assert response.status_code == 400
    assert "groups" in response.json()["errors"]


def test_a_manager_patches_a_user(client, api_token, manager, member_a, group_b):
    response = client.patch(
        f"/api/users/{member_a.id}",
        {"is_active": False, "groups": [group_b.id]},
        content_type="application/json",
        **bearer(api_token(manager)),
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["groups"] == [group_b.id]
    assert response.json()["email"] == "alice@hopital.example"


def test_a_manager_deletes_a_user_but_not_themself(client, api_token, manager, member_a):
    token = api_token(manager)

    assert client.delete(f"/api/users/{member_a.id}", **bearer(token)).status_code == 204
    assert not User.objects.filter(pk=member_a.id).exists()
    refused = client.delete(f"/api/users/{manager.id}", **bearer(token))
    assert refused.status_code == 400
    assert User.objects.filter(pk=manager.id).exists()


def test_an_unknown_user_is_a_json_404(client, api_token, manager):
    response = client.get("/api/users/999999", **bearer(api_token(manager)))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_superuser_has_every_right(client, api_token):
    root = UserFactory(email="root@hopital.example", is_superuser=True)

    me = client.get("/api/me", **bearer(api_token(root))).json()

    assert me["permissions"] == rights.ALL_RIGHTS
