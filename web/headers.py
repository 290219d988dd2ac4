"""Headers every dynamic answer of the portal carries: a Content-Security-Policy and a
``Cache-Control`` that keeps patient data out of shared caches and off the disk of a shared
workstation.

One middleware, so a new page or endpoint is covered without doing anything:

- **CSP**: ``settings.CONTENT_SECURITY_POLICIES`` maps a path prefix to a policy; the longest
  matching prefix wins (OHIF and the API docs need inline scripts, portal pages do not). Behind
  the stack Nginx sends the same policies (``deploy/nginx/templates/portal.conf.template``; a test
  keeps the two equal) and drops the portal's copy, so each answer carries one.
- **Cache-Control**: ``private, no-store`` on every answer whose view did not choose one. Pages,
  API answers, DICOMweb answers, thumbnails and zips name patients or carry their pixels; a view
  that serves files without patient data (the viewer's bundles, login assets) sets its own.

Static files never get here: WhiteNoise (above in ``MIDDLEWARE``) answers them with their own
long-lived headers. Django 6.0 brings its own CSP middleware; this one is the 5.2 LTS stand-in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PRIVATE = "private, no-store"


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the answer to ``path`` (longest prefix wins)."""
    policies: dict[str, str] = settings.CONTENT_SECURITY_POLICIES
    prefix = max((p for p in policies if path.startswith(p)), key=len, default="/")
    return policies[prefix]


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy_for(request.path))
        response.headers.setdefault("Cache-Control", PRIVATE)
        return response
