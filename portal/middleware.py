from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from orthanc_bridge.client import OrthancUnavailable

logger = logging.getLogger(__name__)


class ServiceUnavailableMiddleware:
    """A database or Orthanc failure mid-request becomes a clear 503, not a 500 with a trace.

    Writes run in transactions, so whatever the request was doing was rolled back: the message
    says nothing was saved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DatabaseError):
            logger.error("Database error on %s %s: %s", request.method, request.path, exception)
            message = _("The database is unavailable. Nothing was saved; please try again shortly.")
            code = "database_unavailable"
        elif isinstance(exception, OrthancUnavailable):
            # Views handle Orthanc's absence where they can; this is the net under the rest.
            logger.error(
                "Orthanc unavailable on %s %s: %s", request.method, request.path, exception
            )
            message = _("The image server is unavailable. Try again shortly.")
            code = "orthanc_unavailable"
        else:
            return None
        if request.path.startswith(("/api/", "/dicom-web/")):
            return JsonResponse({"detail": message, "code": code}, status=503)
        return render(request, "error.html", {"status": 503, "message": message}, status=503)
