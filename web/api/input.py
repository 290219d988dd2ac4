"""The one way an API view reads its body: an input serializer, JSON types taken as written.

DRF is lenient where the OpenAPI schema is not: it turns ``0`` into ``"0"`` for a text field,
``"yes"`` or ``1`` into ``true``, ``"5"`` into ``5``, and reads an object where a list is due as
the list of its keys. The schema promises clients the types it states, so a value of another
JSON type is refused here, with the field named, before the serializer sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField
from rest_framework.request import Request


def validated_input(serializer: Any, request: Request, **options: Any) -> dict[str, Any]:
    """The request's body checked by an input serializer; a 400 with field errors otherwise."""
    data = serializer(data=request.data, **options)
    if isinstance(request.data, Mapping):
        errors = {}
        for name, field in data.fields.items():
            try:
                _check_type(field, request.data.get(name))
            except ValidationError as error:
                errors[name] = error.detail
        if errors:
            raise ValidationError(errors)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _check_type(field: Any, value: Any) -> None:
    """Fail with the field's own message (DRF's, translated) for a value of another JSON type."""
    if value is None or field.read_only:
        return  # absent, or null: the serializer decides
    if isinstance(field, serializers.ListField | ManyRelatedField):
        if not isinstance(value, list):
            field.fail("not_a_list", input_type=type(value).__name__)
        child = field.child if isinstance(field, serializers.ListField) else field.child_relation
        for item in value:
            _check_type(child, item)
    elif isinstance(field, serializers.CharField | serializers.BooleanField):
        if not isinstance(value, str if isinstance(field, serializers.CharField) else bool):
            field.fail("invalid")
    elif isinstance(field, serializers.IntegerField) and not _is_integer(value):
        field.fail("invalid")
    elif isinstance(field, PrimaryKeyRelatedField) and not _is_integer(value):
        field.fail("incorrect_type", data_type=type(value).__name__)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
