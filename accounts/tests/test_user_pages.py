from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/accounts/users/", "/accounts/users/new/", "/accounts/groups/", "/accounts/groups/new/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


@pytest.mark.parametrize("url", PAGES)
def test_a_user_without_the_manage_right_gets_403(login_client, member_a, url):
    assert login_client(member_a).get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_a_manager_sees_the_page(login_client, manager, url):
    assert login_client(manager).get(url).status_code == 200


def test_the_edit_pages_are_refused_without_the_right(login_client, member_a, member_b):
    client = login_client(member_a)

    assert client.get(f"/accounts/users/{member_b.pk}/").status_code == 403
    assert client.post(f"/accounts/users/{member_b.pk}/", {"email": "x@y.fr"}).status_code == 403
    assert client.get(f"/accounts/users/{member_b.pk}/password/").status_code == 403
    member_b.refresh_from_db()
    assert member_b.email == "bob@hopital.example"


def test_the_list_searches_by_name_or_email(login_client, manager):
    UserFactory(email="jean.dupont@hopital.example", name="Jean Dupont")
    UserFactory(email="zoe@hopital.example", name="Zoé Martin")

    page = login_client(manager).get("/accounts/users/", {"search": "dupont"}).content.decode()

    assert "jean.dupont@hopital.example" in page
    assert "zoe@hopital.example" not in page


def test_an_htmx_search_returns_only_the_table(login_client, manager):
    UserFactory(email="zoe@hopital.example", name="Zoé Martin")

    response = login_client(manager).get(
        "/accounts/users/", {"search": "zoé"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="user-table"')
    assert "<html" not in body
    assert "zoe@hopital.example" in body
    assert response["Vary"].count("HX-Request") == 1


def test_a_manager_creates_a_user_in_a_group(login_client, manager, group_a):
    response = login_client(manager).post(
        "/accounts/users/new/",
        {
            "email": "New.Nurse@Hopital.example",
            "name": "Nouvelle",
            "password": "Une-Phrase-Longue-9",
            "is_active": "on",
            "groups": [group_a.pk],
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.nurse@hopital.example")
    assert list(user.groups.all()) == [group_a]
    assert user.check_password("Une-Phrase-Longue-9")


def test_a_duplicate_email_is_a_field_error_and_nothing_is_saved(login_client, manager, member_a):
    response = login_client(manager).post(
        "/accounts/users/new/",
        {"email": "ALICE@hopital.example", "name": "Autre", "password": "Une-Phrase-Longue-9"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "A user with this email already exists." in body
    assert body.lstrip().startswith("<form")
    assert User.objects.filter(email__iexact="alice@hopital.example").count() == 1


def test_a_weak_password_is_refused(login_client, manager):
    response = login_client(manager).post(
        "/accounts/users/new/", {"email": "weak@hopital.example", "password": "123"}
    )

    assert response.status_code == 200
    assert not User.objects.filter(email="weak@hopital.example").exists()


def test_an_htmx_create_redirects_the_client(login_client, manager):
    response = login_client(manager).post(
        "/accounts/users/new/",
        {"email": "htmx@hopital.example", "password": "Une-Phrase-Longue-9"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/users/"


def test_a_manager_deactivates_a_user_and_changes_groups(login_client, manager, member_a, group_b):
    response = login_client(manager).post(
        f"/accounts/users/{member_a.pk}/",
        {"email": member_a.email, "name": "Alice", "groups": [group_b.pk]},
    )

    assert response.status_code == 302
    member_a.refresh_from_db()
    assert member_a.is_active is False
    assert list(member_a.groups.all()) == [group_b]


def test_a_manager_cannot_deactivate_themself(login_client, manager):
    response = login_client(manager).post(
        f"/accounts/users/{manager.pk}/", {"email": manager.email, "name": "x"}
    )

    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.is_active is True


def reset_password(client, user, password1: str, password2: str):
    return client.post(
        f"/accounts/users/{user.pk}/password/", {"password1": password1, "password2": password2}
    )


def test_a_manager_resets_a_password(login_client, manager, member_a):
    response = reset_password(
        login_client(manager), member_a, "Nouveau-Secret-31", "Nouveau-Secret-31"
    )

    assert response.status_code == 302
    member_a.refresh_from_db()
    assert member_a.check_password("Nouveau-Secret-31")


def test_mismatched_passwords_change_nothing(login_client, manager, member_a):
    response = reset_password(
        login_client(manager), member_a, "Nouveau-Secret-31", "Autre-Secret-31"
    )

    assert response.status_code == 200
    member_a.refresh_from_db()
    assert member_a.check_password(DEFAULT_PASSWORD)


def test_an_unknown_user_is_404(login_client, manager):
    assert login_client(manager).get("/accounts/users/999999/").status_code == 404
