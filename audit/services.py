"""Writing the audit trail. Callers run inside their own transaction: if the event cannot be
written, the action it describes is rolled back with it (no silent gap)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Model

from audit.models import Action, AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value differs."""
    return {
        field: [_jsonable(before.get(field)), _jsonable(after.get(field))]
        for field in sorted(set(before) | set(after))
        if _jsonable(before.get(field)) != _jsonable(after.get(field))
    }


def audit_record(
    *,
    actor: Any,
    action: Action,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    patient: Any = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record() must run inside the transaction of the audited action")
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor_id=actor.pk if authenticated else None,
        actor_email=actor.email if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        patient_id=getattr(patient, "pk", None),
        patient_external_id=getattr(patient, "external_id", ""),
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
    )
