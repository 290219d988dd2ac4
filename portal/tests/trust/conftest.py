"""The two worlds of the trust suite: one in the test database behind Django's live server
(made again for each test), one in the session's stack behind Nginx (made once; the stack is
portal/tests/conftest.py's, shared with the other stack tests)."""

from __future__ import annotations

import json

import pytest

from devtools.stack.servers import secret
from portal.tests.trust.leaks import secret_values
from portal.tests.trust.world import SEED_SCRIPT, Target, World, build_world, people_seed


@pytest.fixture
def django_world(live_server, orthanc, transactional_db, settings) -> World:
    target = Target(
        "django",
        live_server.url.replace("//localhost:", "//127.0.0.1:"),  # no IPv6 try first
        secrets=secret_values(
            secret_key=settings.SECRET_KEY,
            orthanc_user=settings.ORTHANC_USER,
            orthanc_password=settings.ORTHANC_PASSWORD,
        ),
    )
    return build_world(target, people_seed())


@pytest.fixture
def stack_world(stack, stack_world_made) -> World:
    """The stack's world, its Nginx streaming WADO bytes itself after the portal's decision (the
    production way; another stack test may have left it passing them through Django)."""
    if stack.bytes_via != "nginx":
        stack.restart_nginx("nginx")
    return stack_world_made


@pytest.fixture(scope="session")
def stack_world_made(stack) -> World:
    ids = json.loads(stack.manage("shell", "-c", SEED_SCRIPT).stdout.splitlines()[-1])
    environment = stack.environment()
    target = Target(
        "stack",
        stack.url,
        verify=str(stack.directory / "tls" / "cert.pem"),
        secrets=secret_values(
            secret_key=environment["SECRET_KEY"],
            orthanc_user=environment["ORTHANC_USER"],
            orthanc_password=environment["ORTHANC_PASSWORD"],
            **{
                "PostgreSQL's password": stack.postgres.password,
                "Redis's password": secret(stack.directory / "secrets" / "redis-password"),
            },
        ),
    )
    return build_world(target, ids)
