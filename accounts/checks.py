"""Start-up checks for accounts.

The demo password check reads the database, so it is tagged ``database`` and runs with
``manage.py check --database default`` (the production entrypoint runs it before serving).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from accounts.services import demo_password_in_use


@register(Tags.database)
def demo_password_refused_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not settings.IS_PRODUCTION or settings.ALLOW_DEMO_DATA:
        return []
    try:
        in_use = demo_password_in_use()
    except DatabaseError:
        return []  # the database checks report an unreachable database on their own
    if not in_use:
        return []
    return [
        Error(
            f"The demo account {settings.DEMO_ADMIN_EMAIL} still has the demo password.",
            hint="Change its password (manage.py changepassword) or set ALLOW_DEMO_DATA=true "
            "for a demonstration instance.",
            id="accounts.E001",
        )
    ]
