from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from web.tests.test_database_down import database_unreachable


@pytest.mark.django_db
def test_it_returns_when_the_database_answers():
    out = StringIO()

    call_command("wait_for_db", timeout=5, stdout=out)

    assert "is ready" in out.getvalue()


def test_it_gives_up_after_the_timeout_with_a_clear_message(django_db_blocker):
    with (
        database_unreachable(django_db_blocker),
        pytest.raises(CommandError, match=r"did not accept connections within 1 s"),
    ):
        call_command("wait_for_db", timeout=1)
