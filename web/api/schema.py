"""The OpenAPI schema's house rules (drf-spectacular): error answers documented in one place.

Every operation documents the errors it can answer, all in the portal's one error shape
(``web.api.errors.ErrorOutput``): 400 when it reads a body or answers a page (a bad page_size),
401 and 403 when it needs a login, 404 when its path names an object or when it answers a page
(a page past the end). A view states only the errors peculiar to it, as
``{code: OpenApiResponse(description=...)}``: the shape is added here. Lists answered a page at a
time are documented as the page envelope because their view names its ``pagination_class``
(web.api.pagination).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from web.api.errors import ErrorOutput

STANDARD_ERRORS = {
    400: "Invalid input: `errors` gives each field's messages.",
    401: "Not logged in, or the access token is expired or revoked.",
    403: "Logged in, but without the right for this.",
    404: "No such object, or one you may not see (the same answer, so nothing leaks).",
}
PAGE_NOT_FOUND = "No such object, or no such page."


def drop_trailing_slash_aliases(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[Any]:
    """Every API path also answers with a trailing slash; document only the canonical form."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]


class PortalAutoSchema(AutoSchema):
    # drf-spectacular's hook for the responses of an operation, after @extend_schema's own
    # (which replaces get_response_serializers, so the errors cannot be added there).
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in self._standard_errors().items():
            responses.setdefault(str(code), {"description": description})
        for status, response in responses.items():
            if int(status) >= 400 and "content" not in response:
                error = OpenApiResponse(ErrorOutput, response["description"])
                responses[status] = self._get_response_for_code(error, status, direction=direction)
        return dict(sorted(responses.items()))

    def _standard_errors(self) -> dict[int, str]:
        declared = self.get_response_serializers()
        success = declared[min(declared, key=str)] if isinstance(declared, dict) else declared
        pages = (
            self.method == "GET"
            and is_list_serializer(success)
            and getattr(self.view, "pagination_class", None) is not None
        )
        errors: dict[int, str] = {}
        reads_body = self.method in ("POST", "PUT", "PATCH")
        if pages or (reads_body and self.get_request_serializer() is not None):
            errors[400] = STANDARD_ERRORS[400]
        permissions = self.view.permission_classes
        if not any(isinstance(p, type) and issubclass(p, AllowAny) for p in permissions):
            errors[401], errors[403] = STANDARD_ERRORS[401], STANDARD_ERRORS[403]
        if "{" in self.path or pages:
            errors[404] = PAGE_NOT_FOUND if pages else STANDARD_ERRORS[404]
        return errors
