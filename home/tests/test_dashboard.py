from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_shows_who_i_am_and_my_groups(login_client, member_a):
    body = login_client(member_a).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Alice" in body
    assert "alice@hopital.example" in body
    assert "Cardiologie" in body


def test_it_links_user_management_only_to_holders_of_the_right(login_client, member_a, manager):
    member_page = login_client(member_a).get("/").content.decode()
    manager_page = login_client(manager).get("/").content.decode()

    assert "/accounts/users/" not in member_page
    assert "/accounts/users/" in manager_page
    assert "/accounts/groups/" in manager_page


def test_it_switches_to_english(login_client, member_a):
    client = login_client(member_a)

    french = client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()

    assert "Bienvenue" in french
    assert "Welcome" in english
