from __future__ import annotations

import pytest
from django.test import Client

from accounts import rights
from accounts.tests.factories import DEFAULT_PASSWORD, GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def api_login(client: Client, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post(
        "/api/auth/login",
        {"email": email, "password": password},
        content_type="application/json",
        **extra,
    )


def refresh(client: Client, csrf: str | None):
    headers = {"HTTP_X_CSRF_TOKEN": csrf} if csrf is not None else {}
    return client.post("/api/auth/refresh", **headers)


def test_login_returns_a_bearer_token_and_the_user(client):
    group = GroupFactory(name="Cardiologie", rights=[rights.VIEW_IMAGES])
    user = UserFactory(email="a@hopital.example", name="Alice", groups=[group])

    response = api_login(client, "A@Hopital.example")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {
        "id": user.id,
        "email": "a@hopital.example",
        "name": "Alice",
        "groups": [{"id": group.id, "name": "Cardiologie"}],
        "permissions": [rights.VIEW_IMAGES],
    }
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["email"] == "a@hopital.example"


def test_login_sets_the_refresh_cookie_httponly_strict_on_the_auth_path(client):
    UserFactory(email="a@hopital.example")

    response = api_login(client, "a@hopital.example")

    refresh_cookie = response.cookies["refresh_token"]
    assert refresh_cookie.value
    assert refresh_cookie["httponly"] is True
    assert refresh_cookie["samesite"] == "Strict"
    assert refresh_cookie["path"] == "/api/auth"
    assert not refresh_cookie["secure"]  # plain HTTP in tests
    csrf_cookie = response.cookies["csrf_token"]
    assert csrf_cookie.value
    assert not csrf_cookie["httponly"]
    assert csrf_cookie["samesite"] == "Strict"
    assert "sessionid" not in response.cookies  # a token login opens no browser session


def test_login_over_https_marks_the_cookies_secure(client):
    UserFactory(email="a@hopital.example")

    response = api_login(client, "a@hopital.example", secure=True)

    assert response.cookies["refresh_token"]["secure"] is True
    assert response.cookies["csrf_token"]["secure"] is True


@pytest.mark.parametrize(
    ("email", "password", "active"),
    [
        ("a@hopital.example", "wrong", True),
        ("nobody@hopital.example", DEFAULT_PASSWORD, True),
        ("a@hopital.example", DEFAULT_PASSWORD, False),
    ],
)
def test_login_refuses_bad_credentials_with_json_401(client, email, password, active):
    UserFactory(email="a@hopital.example", is_active=active)

    response = api_login(client, email, password)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert "refresh_token" not in response.cookies


def test_login_validates_its_input(client):
    response = client.post(
        "/api/auth/login", {"email": "not-an-email"}, content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"email", "password"}


def test_login_is_throttled_with_429_after_five_failures(client):
    UserFactory(email="a@hopital.example")
    statuses = [api_login(client, "a@hopital.example", f"wrong-{i}").status_code for i in range(5)]

    response = api_login(client, "a@hopital.example")

    assert statuses[:4] == [401, 401, 401, 401]
    assert response.status_code == 429
    assert response.json()["code"] == "login_throttled"
    assert "access" not in response.json()


def test_page_and_api_failures_count_together(client):
    UserFactory(email="a@hopital.example")
    for i in range(3):
        client.post("/accounts/login/", {"email": "a@hopital.example", "password": f"x{i}"})
    for i in range(2):
        api_login(client, "a@hopital.example", f"y{i}")

    assert api_login(client, "a@hopital.example").status_code == 429


def test_refresh_with_the_csrf_header_gives_a_new_token_and_rotates(client):
    UserFactory(email="a@hopital.example")
    login_response = api_login(client, "a@hopital.example")
    old_refresh = login_response.cookies["refresh_token"].value
    csrf = login_response.cookies["csrf_token"].value

    response = refresh(client, csrf)

    assert response.status_code == 200
    assert response.json()["access"]
    new_refresh = response.cookies["refresh_token"].value
    assert new_refresh != old_refresh
    # The old refresh token was blacklisted by the rotation.
    replay = Client()
    replay.cookies["refresh_token"] = old_refresh
    replay.cookies["csrf_token"] = "same"
    replayed = refresh(replay, "same")
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("header", [None, "", "not-the-cookie"])
def test_refresh_without_a_matching_csrf_header_is_403(client, header):
    UserFactory(email="a@hopital.example")
    api_login(client, "a@hopital.example")

    response = refresh(client, header)

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_refresh_without_the_cookie_is_403(client):
    response = refresh(client, "anything")

    assert response.status_code == 403
    assert response.json()["code"] == "refresh_missing"


def test_logout_revokes_the_refresh_token_and_clears_the_cookies(client):
    UserFactory(email="a@hopital.example")
    login_response = api_login(client, "a@hopital.example")
    old_refresh = login_response.cookies["refresh_token"].value

    response = client.post("/api/auth/logout")

    assert response.status_code == 204
    assert response.cookies["refresh_token"].value == ""
    assert response.cookies["csrf_token"].value == ""
    replay = Client()
    replay.cookies["refresh_token"] = old_refresh
    replay.cookies["csrf_token"] = "x"
    assert refresh(replay, "x").status_code == 401


def test_refresh_is_refused_once_the_user_is_deactivated(client):
    user = UserFactory(email="a@hopital.example")
    csrf = api_login(client, "a@hopital.example").cookies["csrf_token"].value
    user.is_active = False
    user.save()

    assert refresh(client, csrf).status_code == 401


def test_me_needs_a_token(client):
    response = client.get("/api/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_refuses_a_forged_token(client):
    response = client.get("/api/me", HTTP_AUTHORIZATION="Bearer not.a.token")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_trailing_slash_is_accepted(client):
    UserFactory(email="a@hopital.example")

    response = client.post(
        "/api/auth/login/",
        {"email": "a@hopital.example", "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
