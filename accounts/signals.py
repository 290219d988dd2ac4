"""What accounts does when Django says something happened to a user.

- Logins and failed logins (pages, API, admin) are written to the audit trail, with the client
  address; a failed login names the email that was tried, never the password.
- Access changes revoke refresh tokens (receivers in accounts.tokens).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import DatabaseError, transaction

from accounts.services import client_ip, login_throttle_key
from accounts.tokens import connect_token_revocation
from audit.models import Action
from audit.services import audit_record

logger = logging.getLogger(__name__)


def _login_recorded(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    address = client_ip(request) if request is not None else ""
    _record(actor=user, action=Action.LOGIN, obj=user, changes={"address": address})


def _failed_login_recorded(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    email = login_throttle_key(request, credentials) if request is not None else ""
    address = client_ip(request) if request is not None else ""
    _record(
        actor=None,
        action=Action.LOGIN_FAILED,
        object_type="user",
        object_repr=email,
        changes={"address": address},
    )


def _record(**event: Any) -> None:
    """A login is not a change to roll back: if the trail cannot take the event, staff still
    log in, and the failure is logged as an error for the administrators (never silent)."""
    try:
        with transaction.atomic():
            audit_record(**event)
    except DatabaseError:
        logger.exception("Could not record %s in the audit trail", event["action"])


def connect_signals() -> None:
    user_logged_in.connect(_login_recorded, dispatch_uid="audit-login")
    user_login_failed.connect(_failed_login_recorded, dispatch_uid="audit-login-failed")
    connect_token_revocation()
