from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from web.lists import CappedPaginator


class PortalPagination(PageNumberPagination):
    """``{count, next, previous, results}``, LIST_PAGE_SIZE rows a page as on the pages;
    clients may ask for up to 100 rows a page."""

    page_size = settings.LIST_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100


def paginated(
    request: Request, view: APIView, rows: Any, serializer: Any, *, capped: bool = False
) -> Response:
    """The page of ``rows`` the request asks for, serialized, with count and links; ``capped``:
    counted up to web.lists.CappedPaginator.CAP (lists that grow with the archive)."""
    paginator = CappedPagination() if capped else PortalPagination()
    page: Any = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class CappedPagination(PortalPagination):
    """For lists that grow with the archive: ``count`` stops at web.lists.CappedPaginator.CAP
    + 1 (a count of 10001 means "more than 10000: narrow the search")."""

    django_paginator_class = CappedPaginator
