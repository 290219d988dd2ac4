from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A database failure mid-request becomes a clear 503, not a 500 with a stack trace.

    Writes run in transactions, so whatever the request was doing was rolled back: the message
    says nothing was saved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError):
            return None
        logger.error("Database error on %s %s: %s", request.method, request.path, exception)
        message = _("The database is unavailable. Nothing was saved; please try again shortly.")
        if request.path.startswith(("/api/", "/dicom-web/")):
            return JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
        return render(request, "error.html", {"status": 503, "message": message}, status=503)
