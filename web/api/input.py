from __future__ import annotations

from typing import Any

from rest_framework.request import Request


def validated_input(serializer: Any, request: Request, **options: Any) -> dict[str, Any]:
    """The request's body checked by an input serializer; a 400 with field errors otherwise."""
    data = serializer(data=request.data, **options)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)
