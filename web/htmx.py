"""Small helpers so each view answers both a full-page request and an HTMX one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render the whole page, or only its named partial when HTMX asked for it."""
    name = f"{template}#{partial}" if getattr(request, "htmx", False) else template
    response = render(request, name, context, status=status)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    response["Vary"] = "HX-Request"
    return response


def redirect_after_post(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)
