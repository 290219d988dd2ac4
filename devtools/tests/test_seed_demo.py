from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import rights
from accounts.checks import demo_password_refused_in_production
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_it_creates_the_admin_in_a_group_with_every_right():
    call_command("seed_demo", stdout=StringIO())

    admin = User.objects.get(email="admin@imagine.fr")
    group = Group.objects.get(name="Administrateurs")
    assert admin.check_password("Admin123!")
    assert list(admin.groups.all()) == [group]
    assert sorted(f"accounts.{p.codename}" for p in group.permissions.all()) == sorted(
        rights.ALL_RIGHTS
    )


def test_the_demo_admin_logs_in_on_the_page():
    call_command("seed_demo", stdout=StringIO())
    client = Client()

    response = client.post(
        "/accounts/login/", {"email": "admin@imagine.fr", "password": "Admin123!"}
    )

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_running_it_twice_changes_nothing_and_keeps_a_changed_password():
    call_command("seed_demo", stdout=StringIO())
    admin = User.objects.get(email="admin@imagine.fr")
    admin.set_password("Changed-Later-99")
    admin.save()
    group = Group.objects.get(name="Administrateurs")
    group.permissions.remove(*group.permissions.filter(codename="view_audit_log"))

    out = StringIO()
    call_command("seed_demo", stdout=out)

    admin.refresh_from_db()
    assert admin.check_password("Changed-Later-99")
    assert User.objects.filter(email="admin@imagine.fr").count() == 1
    assert Group.objects.filter(name="Administrateurs").count() == 1
    assert not group.permissions.filter(codename="view_audit_log").exists()
    assert "already present" in out.getvalue()


def test_it_refuses_to_seed_in_production(settings):
    settings.IS_PRODUCTION = True
    settings.ALLOW_DEMO_DATA = False

    with pytest.raises(CommandError, match="Refusing to create demo data in production"):
        call_command("seed_demo")
    assert not User.objects.filter(email="admin@imagine.fr").exists()


def test_production_start_check_refuses_the_demo_password(settings):
    call_command("seed_demo", stdout=StringIO())
    settings.IS_PRODUCTION = True
    settings.ALLOW_DEMO_DATA = False

    errors = demo_password_refused_in_production()

    assert [e.id for e in errors] == ["accounts.E001"]
    settings.ALLOW_DEMO_DATA = True
    assert demo_password_refused_in_production() == []


def test_the_check_passes_once_the_password_is_changed(settings):
    call_command("seed_demo", stdout=StringIO())
    admin = User.objects.get(email="admin@imagine.fr")
    admin.set_password("Changed-Later-99")
    admin.save()
    settings.IS_PRODUCTION = True
    settings.ALLOW_DEMO_DATA = False

    assert demo_password_refused_in_production() == []


def test_it_creates_patient_poc_in_the_admin_group():
    from patients.models import Patient

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    patient = Patient.objects.get(external_id="patient_test_poc")
    assert [g.name for g in patient.groups.all()] == ["Administrateurs"]
    assert Patient.objects.count() == 1


def test_it_tops_up_synthetic_patients_to_the_asked_number():
    from patients.models import Patient

    call_command("seed_demo", patients=30, stdout=StringIO())
    call_command("seed_demo", patients=30, stdout=StringIO())
    call_command("seed_demo", patients=40, stdout=StringIO())

    assert Patient.objects.filter(external_id__startswith="SYN").count() == 40
    assert Patient.objects.filter(search_text__contains="SYN0000003").count() == 10
