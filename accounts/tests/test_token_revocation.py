"""Refresh tokens die when access changes, by every door, and never outlive the login."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import rights
from accounts.tests.factories import DEFAULT_PASSWORD, GroupFactory, UserFactory
from accounts.tests.test_api_auth import api_login, refresh

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Autre-Mot-De-Passe-42"


@pytest.fixture
def victim():
    group = GroupFactory(name="Cardiologie", rights=[rights.VIEW_IMAGES])
    return UserFactory(email="victime@hopital.example", groups=[group])


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.force_login(admin)
    return client


def logged_in_by_api(user) -> Client:
    """A client holding the refresh cookie of an API login (as a thief of it would)."""
    client = Client()
    assert api_login(client, user.email).status_code == 200
    return client


def refresh_status(client: Client) -> int:
    return refresh(client, client.cookies["csrf_token"].value).status_code


def change_by_admin_reset_page(admin_client, user):
    response = admin_client.post(
        f"/accounts/users/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code in (200, 302), response.content


def change_by_admin_reset_api(admin_client, user):
    response = admin_client.post(
        f"/api/users/{user.pk}/password", {"password": NEW_PASSWORD}, "application/json"
    )
    assert response.status_code == 204, response.content


def change_by_own_password_page(admin_client, user):
    own = Client()
    own.force_login(user)
    response = own.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content


def change_by_django_admin(admin_client, user):
    superuser = UserFactory(email="root@hopital.example", is_staff=True, is_superuser=True)
    site = Client()
    site.force_login(superuser)
    response = site.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content


def change_by_any_code_that_saves_the_user(admin_client, user):
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])


def deactivate_by_api(admin_client, user):
    response = admin_client.patch(
        f"/api/users/{user.pk}", {"is_active": False}, content_type="application/json"
    )
    assert response.status_code == 200, response.content


def remove_from_group_by_api(admin_client, user):
    response = admin_client.patch(
        f"/api/users/{user.pk}", {"groups": []}, content_type="application/json"
    )
    assert response.status_code == 200, response.content


def remove_from_group_by_the_group_side(admin_client, user):
    Group.objects.get(name="Cardiologie").user_set.remove(user)


def delete_the_group_by_api(admin_client, user):
    group = Group.objects.get(name="Cardiologie")
    assert admin_client.delete(f"/api/groups/{group.pk}").status_code == 204


DOORS = [
    change_by_admin_reset_page,
    change_by_admin_reset_api,
    change_by_own_password_page,
    change_by_django_admin,
    change_by_any_code_that_saves_the_user,
    deactivate_by_api,
    remove_from_group_by_api,
    remove_from_group_by_the_group_side,
    delete_the_group_by_api,
]


@pytest.mark.parametrize("door", DOORS, ids=[door.__name__ for door in DOORS])
def test_a_stolen_refresh_cookie_dies_when_access_changes(door, victim, admin_client):
    thief = logged_in_by_api(victim)

    door(admin_client, victim)

    assert refresh_status(thief) == 401
    assert refresh(thief, thief.cookies["csrf_token"].value).json()["code"] == "token_not_valid"


def test_changepassword_command_revokes_too(victim, monkeypatch):
    thief = logged_in_by_api(victim)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", victim.email, stdout=None)

    assert refresh_status(thief) == 401


def test_other_changes_leave_the_login_alive(victim, admin_client):
    client = logged_in_by_api(victim)

    admin_client.patch(f"/api/users/{victim.pk}", {"name": "Nouveau nom"}, "application/json")
    logged_in_by_api(victim)  # a second login saves last_login on the same user

    assert refresh_status(client) == 200


def test_an_access_token_stops_working_when_the_password_changes(victim, admin_client):
    access = api_login(Client(), victim.email).json()["access"]
    me = Client(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.get("/api/me").status_code == 200

    change_by_admin_reset_page(admin_client, victim)

    assert me.get("/api/me").status_code == 401


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_refresh_keeps_the_expiry_of_the_login(victim):
    client = logged_in_by_api(victim)
    first = claims(client.cookies["refresh_token"].value)

    time.sleep(1.1)  # the next token's iat is a later second
    response = refresh(client, client.cookies["csrf_token"].value)

    assert response.status_code == 200
    second = claims(client.cookies["refresh_token"].value)
    assert second["jti"] != first["jti"]
    assert second["iat"] > first["iat"]
    assert second["exp"] == first["exp"]
    assert claims(response.json()["access"])["exp"] <= first["exp"]
    assert int(client.cookies["refresh_token"]["max-age"]) <= first["exp"] - second["iat"]


def test_a_refresh_cookie_used_often_still_expires_with_the_login(victim, monkeypatch):
    monkeypatch.setattr(RefreshToken, "lifetime", timedelta(seconds=3))
    client = logged_in_by_api(victim)

    time.sleep(1.5)
    assert refresh_status(client) == 200  # before: this restarted the 3 s
    time.sleep(2.0)

    assert refresh_status(client) == 401


def test_the_reset_api_validates_the_password(victim, admin_client):
    response = admin_client.post(
        f"/api/users/{victim.pk}/password", {"password": "123"}, "application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "password" in response.json()["errors"]


def test_a_refresh_token_minted_before_a_password_change_is_refused(victim):
    """As if a refresh had raced a reset: the token survived the revocation, not the check."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    thief = logged_in_by_api(victim)
    User.objects.filter(pk=victim.pk).update(password=make_password(NEW_PASSWORD))  # no signal

    assert refresh_status(thief) == 401


def test_a_refresh_token_is_used_once(victim):
    client = logged_in_by_api(victim)
    stolen = client.cookies["refresh_token"].value
    assert refresh_status(client) == 200

    replay = Client()
    replay.cookies["refresh_token"] = stolen
    replay.cookies["csrf_token"] = "x"

    assert refresh(replay, "x").status_code == 401
