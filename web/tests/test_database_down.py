"""The database going away under a logged-in user: the portal's 503 page, not a bare 500.

The page's user, rights and messages all need the database, so the error page must not ask it
again (web.errors.database_unavailable). A real connection failure: the live connection is
pointed at a port where nothing listens.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest
from django.db import connection

DB_DOWN = "The database is unavailable. Nothing was saved; please try again shortly."


@contextmanager
def database_unreachable(django_db_blocker):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with django_db_blocker.unblock():
        original = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["PORT"] = str(closed_port)
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/patients/", "/", "/audit/"])
def test_a_logged_in_page_is_the_503_page_when_the_database_is_down(
    login_client, admin, django_db_blocker, path
):
    client = login_client(admin)
    with database_unreachable(django_db_blocker):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert DB_DOWN in response.content.decode()
    assert client.get(path).status_code == 200  # back: the same session works


@pytest.mark.django_db(transaction=True)
def test_a_script_asking_for_json_gets_json(login_client, admin, django_db_blocker):
    client = login_client(admin)
    with database_unreachable(django_db_blocker):
        response = client.get("/patients/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
