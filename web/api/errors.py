"""DRF's side of the error vocabulary (``web.errors``): ``{"detail": ..., "code": ...}``.

Validation errors add ``"errors": {field: [messages]}``. Django's own ValidationError (raised by
services) is turned into a 400 the same way, so services need not know about DRF; a
``PortalError`` raised under an API view is rendered as everywhere else.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from web.errors import PortalError


class ErrorOutput(serializers.Serializer):
    """The shape of every error answer, as the OpenAPI schema documents it (web.api.schema).

    Some errors add keys of their own (an interrupted upload's 503 carries its report)."""

    detail = serializers.CharField(help_text="A sentence for people, in the request's language.")
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, …")
    # The key clients read (DRF's metaclass takes it as a field; Serializer.errors stays as is).
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="400 invalid input only: each field's messages (list items by index).",
    )


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def _first_code(codes: Any) -> str:
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else "error"


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PortalError):
        return Response(
            {"detail": exc.detail, "code": exc.code, **exc.extra},
            status=exc.status,
            headers=exc.headers,
        )
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: handler500 answers with JSON under /api/
    if isinstance(exc, exceptions.ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"detail": _("Invalid input."), "code": "invalid", "errors": errors}
        return response
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        code = data.get("code") or getattr(detail, "code", None)
    else:
        detail, code = data, None
    if not code and isinstance(exc, exceptions.APIException):
        code = _first_code(exc.get_codes())
    body: dict[str, str] = {"detail": str(detail), "code": str(code or "error")}
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        body["retry_after"] = str(int(wait))
    response.data = body
    return response
