"""Logins and failed logins are in the audit trail, by page and by API."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse():
    return UserFactory(email="infirmiere@hopital.example")


def test_a_page_login_is_recorded_with_the_address(nurse):
    Client(REMOTE_ADDR="10.1.2.3").post(
        "/accounts/login/", {"email": nurse.email, "password": DEFAULT_PASSWORD}
    )

    event = AuditEvent.objects.get(action=Action.LOGIN)
    assert (event.actor_id, event.actor_email) == (nurse.pk, nurse.email)
    assert event.changes == {"address": "10.1.2.3"}


def test_an_api_login_is_recorded(nurse):
    response = Client().post(
        "/api/auth/login",
        {"email": nurse.email, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor_id=nurse.pk).count() == 1


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_failed_login_names_the_email_tried_never_the_password(door, nurse):
    client = Client(REMOTE_ADDR="10.9.9.9")
    credentials = {"email": "Infirmiere@Hopital.example", "password": "mauvais-secret"}
    if door == "page":
        client.post("/accounts/login/", credentials)
    else:
        client.post("/api/auth/login", credentials, content_type="application/json")

    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.actor_id is None
    assert event.object_repr == nurse.email
    assert event.changes == {"address": "10.9.9.9"}
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()
    assert "mauvais-secret" not in str(list(AuditEvent.objects.values()))
