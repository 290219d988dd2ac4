"""The Orthanc client's errors: what callers catch, and what views let the portal render."""

from __future__ import annotations

from typing import Any

import requests
import urllib3
from django.utils.translation import gettext_lazy

from web.errors import PortalError, ServiceUnavailable


class OrthancError(Exception):
    """Base of the bridge's errors."""


class OrthancUnavailable(OrthancError, ServiceUnavailable):
    """Orthanc could not be reached, timed out, or failed on its side (5xx).

    Raised out of a view, it is the portal's 503 (web.errors): users read ``detail``, the logs
    read the technical ``reason``. ``sent``: the request reached Orthanc and no answer came
    back (a read timeout, a connection broken after sending), so Orthanc may have carried it
    out; False when it never left (refused connection, known unresponsive, no time left).
    """

    code = "orthanc_unavailable"
    default_detail = gettext_lazy("The image server is unavailable. Try again shortly.")

    def __init__(self, reason: str = "", *, sent: bool = False, **answer: Any) -> None:
        super().__init__(**answer)
        self.reason = reason
        self.sent = sent

    def __str__(self) -> str:
        return self.reason or self.detail


class OrthancRejected(OrthancError, PortalError):
    """Orthanc refused the request (4xx); its status and message are kept in ``orthanc_status``
    and ``message``. Raised out of a view, it is a 502: the portal asked something the image
    server would not do."""

    status, code = 502, "orthanc_rejected"
    default_detail = gettext_lazy("The image server refused the request.")

    def __init__(self, orthanc_status: int, message: str) -> None:
        super().__init__()
        self.orthanc_status = orthanc_status
        self.message = message

    def __str__(self) -> str:
        return f"{self.orthanc_status} {self.message}"


class OrthancNotFound(OrthancRejected):
    """Orthanc has no such resource: out of a view, the portal's 404."""

    status, code = 404, "not_found"
    default_detail = gettext_lazy("This image resource does not exist.")


class OrthancDeadline(OrthancUnavailable):
    """The request's own time (UPLOAD_BATCH_SECONDS, a search's bound) ran out while Orthanc
    was still working: Orthanc is not unresponsive, this request is too long."""

    code = "orthanc_deadline"
    default_detail = gettext_lazy("The image server took too long for this request.")


def orthanc_message(response: requests.Response) -> str:
    """Orthanc's own words in an error answer (its JSON ``Details``/``Message``), parsed once."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason
    if isinstance(body, dict):
        return str(body.get("Details") or body.get("Message") or body)
    return str(body)[:300]


def may_have_arrived(error: requests.RequestException) -> bool:
    """Whether a failed request may have reached Orthanc: not when no connection was made. (A
    stopped Orthanc reads a request from its socket when it resumes, and carries it out.)"""
    if isinstance(error, requests.ConnectTimeout):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return not isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    )
