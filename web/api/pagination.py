from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from web.lists import CappedPaginator


class PortalPagination(PageNumberPagination):
    """``{count, next, previous, results}``, LIST_PAGE_SIZE rows a page as on the pages;
    clients may ask for up to 100 rows a page (more counts as 100). A ``page_size`` that is
    not a whole number from 1 is refused (400), not silently replaced by the default."""

    page_size = settings.LIST_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        asked = request.query_params.get(self.page_size_query_param)
        if asked is not None and not (asked.isascii() and asked.isdigit() and int(asked) >= 1):
            message = _("A whole number of rows, at least 1.")
            raise ValidationError({self.page_size_query_param: [message]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows a page: {self.page_size} unless given, at most {self.max_page_size} "
                    f"(more counts as {self.max_page_size})."
                )
        return parameters


class CappedPagination(PortalPagination):
    """For lists that grow with the archive: ``count`` stops at web.lists.CappedPaginator.CAP
    + 1 (a count of 10001 means "more than 10000: narrow the search")."""

    django_paginator_class = CappedPaginator


def paginated(request: Request, view: APIView, rows: Any, serializer: Any) -> Response:
    """The page of ``rows`` the request asks for, serialized, with count and links.

    The view names its ``pagination_class`` (PortalPagination or CappedPagination): the OpenAPI
    schema reads it there to document the page envelope and the ``page`` parameters.
    """
    pagination = getattr(view, "pagination_class", None)
    if pagination is None:
        raise TypeError(f"{type(view).__name__} answers pages: give it a pagination_class.")
    paginator = pagination()
    page: Any = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)
