from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path


def api_path(route: str, view: Any, name: str) -> list[URLPattern]:
    """The API's paths have no trailing slash; the slashed form is accepted too."""
    return [path(route, view, name=name), path(f"{route}/", view)]
