"""Who may read the audit trail: holders of "view the audit log", the one way it is asked."""

from __future__ import annotations

from accounts import rights
from web.errors import Forbidden


def require_audit_reader(*, user) -> None:
    if not user.has_perm(rights.VIEW_AUDIT_LOG):
        raise Forbidden()
