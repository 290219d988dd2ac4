"""The one list pattern: every list page pages its rows the same way.

Rows per page come from LIST_PAGE_SIZE, shared with the API's pagination; the template side is
``includes/pagination.html`` (links built with ``{% querystring %}``, so search and ordering are
kept), inside a container that carries the list's ``hx-*`` attributes once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def list_page(request: HttpRequest, rows: Any) -> Page:
    """The page of ``rows`` the request asks for (``?page=``); out-of-range gives the last."""
    return Paginator(rows, settings.LIST_PAGE_SIZE).get_page(request.GET.get("page"))
