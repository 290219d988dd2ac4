"""The OpenAPI schema is the API's contract: it is valid, and the API keeps it.

schemathesis reads /api/schema from the portal's WSGI application and sends each operation
generated requests, valid and invalid, in this process, against the test session's PostgreSQL
and Orthanc: as an administrator with a JWT (its coverage phase, boundaries and each kind of
invalid value, then fuzzing), and as a care-team member (fuzzing only: their 403s). Every answer
must be documented (status and body, errors included), none may be a 5xx, a valid request is
not refused but for a business rule, an invalid one is not accepted. The run is bounded and
repeatable: the coverage cases plus a fixed number of fuzzed cases per operation, derandomized.

Nothing is excluded. Each operation is its own test, in its own rolled-back transaction, so a
DELETE or a password reset only changes what the later cases of that same operation see (and a
401 or 403 that follows is documented too). Uploads get schemathesis's bytes (refused files) as
multipart, DICOM or zip bodies.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import BaseSchema
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

from accounts import rights
from accounts.models import User
from accounts.tests.factories import GroupFactory, UserFactory
from devtools.dicom_samples import one_instance_study
from orthanc_bridge.shares.models import ShareLink, token_hash
from patients.tests.factories import PatientFactory
from portal.wsgi import application

# Rows the generated paths name besides random ids, so that cases reach real objects (200s,
# 204s, business-rule 400s, the checks of a body) and not only 404s. Fixed ids, far above the
# sequences, so that the cases can be built before the rows exist. The last of each is the one
# a coverage case names: changing or deleting it leaves the personas and their group alone.
KNOWN_IDS = {
    "users": [910_001, 910_002, 910_003],  # the administrator, a member, a user without rights
    "groups": [920_001, 920_002],  # the member's care group, an empty group
    "patients": [930_001, 930_002],  # with a study in Orthanc, without
    "shares": [940_001],
}
ADMIN_ID, MEMBER_ID = KNOWN_IDS["users"][:2]
STUDY_UID = "1.2.826.0.1.3680043.8.498.940001"
CARE_TEAM = [
    rights.VIEW_GROUP_PATIENTS,
    rights.ADD_PATIENT,
    rights.CHANGE_PATIENT,
    rights.VIEW_IMAGES,
]


def api_schema(**config: dict) -> BaseSchema:
    """/api/schema as the WSGI application serves it, with the hooks below."""
    checks = {
        # A schema-valid request may still break a rule a schema cannot state: a name or an
        # email already taken, a weak password, deleting one's own account, a permission or a
        # study that does not exist, bytes that are not DICOM. Those answer 400.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
        }
    }
    loaded = schemathesis.openapi.from_wsgi(
        "/api/schema",
        application,
        config=schemathesis.Config.from_dict({"checks": checks, **config}),
        headers={"Accept": "application/json"},
    )
    loaded.hook(map_case)
    loaded.hook(flatmap_case)
    return loaded


def bounded(cases: int) -> settings:
    return settings(
        max_examples=cases,
        derandomize=True,
        database=None,
        deadline=None,
        # The world fixture is built once per operation, not per case, on purpose (see above).
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def map_case(context, case):
    """The coverage phase's cases (fixed, built at collection): a valid id in the path names an
    existing row, a valid study to share is the stored one. Invalid ones are left as generated."""
    if case.meta is None or case.meta.phase.name != TestPhase.COVERAGE:
        return case
    if "id" in (case.path_parameters or {}) and not _negative(case, ParameterLocation.PATH):
        _with(case, "path_parameters", KNOWN_IDS[_collection(context)][-1])
    if _shares(case) and not _negative(case, ParameterLocation.BODY):
        _with(case, "body", STUDY_UID)
    return case


def flatmap_case(context, case):
    """The fuzzing phase's cases: a valid id in the path is, half the time, one that exists; so
    is a valid study to share. Invalid ones are left as generated."""
    if "id" in (case.path_parameters or {}) and not _negative(case, ParameterLocation.PATH):
        known = st.sampled_from(KNOWN_IDS[_collection(context)])
        return st.one_of(st.just(case), known.map(lambda pk: _with(case, "path_parameters", pk)))
    if _shares(case) and not _negative(case, ParameterLocation.BODY):
        return st.booleans().map(lambda real: _with(case, "body", STUDY_UID) if real else case)
    return st.just(case)


def _collection(context) -> str:
    return context.operation.path.split("/")[2]  # /api/<collection>/{id}...


def _shares(case) -> bool:
    return isinstance(case.body, dict) and "study_uid" in case.body


def _negative(case, location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def _with(case, container: str, value):
    key = "id" if container == "path_parameters" else "study_uid"
    setattr(case, container, {**getattr(case, container), key: value})
    return case


# The raw upload bodies are bytes, sent as they are.
schemathesis.serializer.alias(["application/dicom", "application/zip"], "application/octet-stream")
as_admin = api_schema()
# The member's run skips the coverage phase, which the administrator's run has done: its cases
# would mostly end in the same 403s.
as_member = api_schema(phases={"coverage": {"enabled": False}})


@pytest.fixture
def in_process():
    """Requests reach the WSGI application in this thread, inside the test's transaction: as
    Django's test client does, no request may close the connection at its start or end."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, in_process, orthanc, admin_group):
    """The rows KNOWN_IDS names, a study of the first patient in Orthanc and a link to it."""
    care = GroupFactory(pk=KNOWN_IDS["groups"][0], name="Cardiologie", rights=CARE_TEAM)
    GroupFactory(pk=KNOWN_IDS["groups"][1], name="Vide")
    admin = UserFactory(pk=ADMIN_ID, email="chef@hopital.example", groups=[admin_group])
    UserFactory(pk=MEMBER_ID, email="alice@hopital.example", groups=[care])
    UserFactory(pk=KNOWN_IDS["users"][2], email="stagiaire@hopital.example")
    patient = PatientFactory(pk=KNOWN_IDS["patients"][0], external_id="CARDIO-001", groups=[care])
    PatientFactory(pk=KNOWN_IDS["patients"][1], external_id="CARDIO-002", groups=[care])
    study = one_instance_study(patient_id="CARDIO-001", study_uid=STUDY_UID)
    orthanc.store_instance(io.BytesIO(study.content))
    ShareLink.objects.create(
        pk=KNOWN_IDS["shares"][0],
        token_hash=token_hash("schemathesis"),
        study_uid=STUDY_UID,
        patient=patient,
        created_by=admin,
        expires_at=timezone.now() + timedelta(days=1),
    )


def bearer(case, user_id: int) -> dict[str, str]:
    """The persona's token in place of the random one schemathesis generates from the security
    scheme, fresh, for the user as the database holds them now (a case may have reset their
    password). Not when the case is about a missing or malformed header (it must be refused), nor
    when a case deleted or disabled the user (then the API answers 401)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or _negative(case, ParameterLocation.HEADER):
        return {}
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@as_admin.parametrize()
@bounded(cases=20)
def test_the_api_keeps_its_schema_for_an_administrator(case, world):
    case.call_and_validate(headers=bearer(case, ADMIN_ID))


@as_member.parametrize()
@bounded(cases=6)
def test_the_api_keeps_its_schema_for_a_care_team_member(case, world):
    case.call_and_validate(headers=bearer(case, MEMBER_ID))


def test_the_schema_is_valid_openapi_generated_without_a_warning():
    """A warning is a part of the API the schema could not describe (the command's output
    names it); ``--fail-on-warn`` turns it into a failure."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
