from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def login(client: Client, email: str, password: str, next: str | None = None, language: str = "fr"):
    data = {"email": email, "password": password}
    if next is not None:
        data["next"] = next
    return client.post(LOGIN_URL, data, HTTP_ACCEPT_LANGUAGE=language)


def test_it_logs_in_by_email_whatever_its_case(client):
    UserFactory(email="marie.curie@hopital.example")

    response = login(client, "Marie.CURIE@Hopital.example", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_goes_to_next_after_login(client):
    UserFactory(email="a@hopital.example")

    response = login(client, "a@hopital.example", DEFAULT_PASSWORD, next="/accounts/password/")

    assert response["Location"] == "/accounts/password/"


def test_it_ignores_a_next_on_another_site(client):
    UserFactory(email="a@hopital.example")

    response = login(client, "a@hopital.example", DEFAULT_PASSWORD, next="https://evil.example/")

    assert response["Location"] == "/"


def test_it_refuses_a_wrong_password_with_a_message(client):
    UserFactory(email="a@hopital.example")

    response = login(client, "a@hopital.example", "not-the-password", language="en")

    assert response.status_code == 200
    assert "Email or password is incorrect" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_inactive_user_with_the_same_message(client):
    UserFactory(email="gone@hopital.example", is_active=False)

    response = client.post(
        LOGIN_URL,
        {"email": "gone@hopital.example", "password": DEFAULT_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Email or password is incorrect" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_speaks_french_by_default(client):
    response = client.get(LOGIN_URL)

    assert 'lang="fr"' in response.content.decode()
    assert "Connexion" in response.content.decode()


def test_it_locks_out_after_five_failures_even_with_the_right_password(client):
    UserFactory(email="a@hopital.example")
    statuses = [login(client, "a@hopital.example", f"wrong-{i}").status_code for i in range(5)]

    response = login(client, "A@hopital.example", DEFAULT_PASSWORD, language="en")

    assert statuses[:4] == [200, 200, 200, 200]
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_email_so_other_users_still_log_in(client):
    UserFactory(email="a@hopital.example")
    UserFactory(email="b@hopital.example")
    for i in range(6):
        login(client, "a@hopital.example", f"wrong-{i}")

    response = login(client, "b@hopital.example", DEFAULT_PASSWORD)

    assert response.status_code == 302


def test_a_success_resets_the_failure_count(client):
    UserFactory(email="a@hopital.example")
    for i in range(4):
        login(client, "a@hopital.example", f"wrong-{i}")
    assert login(client, "a@hopital.example", DEFAULT_PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for i in range(4):
        login(client, "a@hopital.example", f"wrong-again-{i}")

    assert login(client, "a@hopital.example", DEFAULT_PASSWORD).status_code == 302


def test_logout_is_post_only(client, member_a):
    client.force_login(member_a)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_user_changes_their_password_audited_as_a_reset_is(client):
    user = UserFactory(email="a@hopital.example")
    client.force_login(user)

    response = client.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Another-Secret-77",
            "new_password2": "Another-Secret-77",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-Secret-77")
    event = AuditEvent.objects.get(action=Action.USER_PASSWORD)
    assert (event.actor_id, event.object_id) == (user.pk, str(user.pk))
    assert client.get("/").status_code == 200  # still logged in: the session hash was updated


def test_a_wrong_old_password_changes_nothing(client):
    user = UserFactory(email="a@hopital.example")
    client.force_login(user)

    response = client.post(
        "/accounts/password/",
        {
            "old_password": "nope",
            "new_password1": "Another-Secret-77",
            "new_password2": "Another-Secret-77",
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_error_is_in_french_by_default(client):
    UserFactory(email="a@hopital.example")

    response = login(client, "a@hopital.example", "faux")

    assert "E-mail ou mot de passe incorrect" in response.content.decode()
