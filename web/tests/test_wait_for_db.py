from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection


@pytest.mark.django_db
def test_it_returns_when_the_database_answers():
    out = StringIO()

    call_command("wait_for_db", timeout=5, stdout=out)

    assert "is ready" in out.getvalue()


def test_it_gives_up_after_the_timeout_with_a_clear_message(django_db_blocker):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with django_db_blocker.unblock():
        original = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["PORT"] = str(closed_port)
        try:
            with pytest.raises(CommandError, match=r"did not accept connections within 1 s"):
                call_command("wait_for_db", timeout=1)
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)
