from __future__ import annotations

import socket

import pytest
from django.db import connection


@pytest.mark.django_db
def test_health_is_ok_with_the_database_and_orthanc_up(client, orthanc):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "orthanc": "ok"}


@pytest.mark.django_db
def test_health_is_503_when_orthanc_is_unreachable(client):
    # Without the `orthanc` fixture the portal points at a closed port: a real refusal.
    response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "ok", "orthanc": "unavailable"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_is_503_when_the_database_is_unreachable(client, django_db_blocker, orthanc):
    """Point the live connection at a port where no server listens: a real connection failure."""
    with django_db_blocker.unblock():
        original = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["HOST"] = "127.0.0.1"
        connection.settings_dict["PORT"] = str(_closed_port())
        try:
            response = client.get("/health")
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unavailable", "orthanc": "ok"}


def test_health_recovers_once_the_database_is_back(client, django_db_blocker, orthanc):
    with django_db_blocker.unblock():
        original = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["PORT"] = str(_closed_port())
        try:
            assert client.get("/health").status_code == 503
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)
        # Same process, same connection object: the next request reconnects by itself.
        try:
            assert client.get("/health").status_code == 200
        finally:
            connection.close()  # opened outside any test database fixture: not left behind
