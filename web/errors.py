"""The portal's one error vocabulary, and the one place errors become answers.

Code anywhere raises a ``PortalError`` (a status, a machine-readable code, a sentence for
people); ``ErrorMiddleware`` (and DRF's exception handler in ``web.api.errors``) renders it:
``{"detail", "code"}`` JSON for clients that want JSON, the error page for everyone else.
Django's own 400/403/404/500 handlers answer the same way, and a database failure becomes a
503 that says nothing was saved (writes run in transactions), wherever it was raised.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

JSON_PATH_PREFIXES = ("/api/", "/dicom-web/")


class PortalError(Exception):
    """An answer other than success, raised where it is found and rendered in one place."""

    status = 500
    code = "server_error"
    default_detail: Any = gettext_lazy("Something went wrong on our side. Please try again.")

    def __init__(
        self,
        detail: Any = None,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = str(detail if detail is not None else self.default_detail)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.detail)


class BadRequest(PortalError):
    """A request that cannot be understood: a bad parameter, an unreadable body."""

    status, code = 400, "bad_request"
    default_detail = gettext_lazy("The request could not be understood.")


class NotAuthenticated(PortalError):
    status, code = 401, "not_authenticated"
    default_detail = gettext_lazy("Log in first.")


class Forbidden(PortalError):
    """The user is known and sees the object, but lacks the right for this action."""

    status, code = 403, "permission_denied"
    default_detail = gettext_lazy("You do not have the right to do this.")


class NotFound(PortalError):
    """No such object, or one the user may not see: its existence must not leak, so both are
    the same answer."""

    status, code = 404, "not_found"
    default_detail = gettext_lazy("This page does not exist.")


class MethodNotAllowed(PortalError):
    status, code = 405, "method_not_allowed"
    default_detail = gettext_lazy("This method is not allowed here.")


class Conflict(PortalError):
    status, code = 409, "conflict"


class UnsupportedMediaType(PortalError):
    status, code = 415, "unsupported_media_type"


class ServiceUnavailable(PortalError):
    """A service the portal needs (the database, the image server…) is not answering."""

    status, code = 503, "service_unavailable"
    default_detail = gettext_lazy("A service is unavailable. Try again shortly.")


def wants_json(request: HttpRequest) -> bool:
    """The one rule: the API and DICOMweb always speak JSON; a page's script asks for it."""
    if request.path.startswith(JSON_PATH_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    response: HttpResponse
    if not hasattr(request, "user"):
        # Refused before the authentication middleware ran (e.g. a Host not in ALLOWED_HOSTS):
        # the page is rendered for an anonymous visitor.
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    if wants_json(request):
        response = JsonResponse({"detail": detail, "code": code, **(extra or {})}, status=status)
    else:
        response = render(
            request, "error.html", {"status": status, "message": detail}, status=status
        )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render_error(request: HttpRequest, error: PortalError) -> HttpResponse:
    return error_response(
        request, error.status, error.code, error.detail, headers=error.headers, extra=error.extra
    )


class ErrorMiddleware:
    """Renders PortalError, and turns a database failure into a clear 503, never a trace."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PortalError):
            if exception.status >= 500:
                logger.error("%s on %s %s: %s", exception.code, request.method, request.path,
                             exception)  # fmt: skip
            return render_error(request, exception)
        if isinstance(exception, DatabaseError):
            logger.error("Database error on %s %s: %s", request.method, request.path, exception)
            return database_unavailable(request)
        return None


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 of a database failure. The page is rendered without the request's context
    processors: the user, their rights and their messages all need the database, and asking it
    again would fail again (or wait for its connect timeout each time). It is shown as to an
    anonymous visitor."""
    from django.contrib.auth.models import AnonymousUser

    detail = _("The database is unavailable. Nothing was saved; please try again shortly.")
    if wants_json(request):
        return JsonResponse({"detail": detail, "code": "database_unavailable"}, status=503)
    page = render_to_string(
        "error.html", {"status": 503, "message": detail, "user": AnonymousUser()}
    )
    return HttpResponse(page, status=503)


# --- Django's handlers (set in the root URLconf) ----------------------------------------------


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, BadRequest())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, Forbidden())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, NotFound())


def server_error(request: HttpRequest) -> HttpResponse:
    # A database failure outside a view (a middleware reading the session): the same 503.
    if isinstance(sys.exc_info()[1], DatabaseError):
        return database_unavailable(request)
    return render_error(request, PortalError())
