"""Talking to Orthanc's DICOMweb plugin on behalf of a client: the query and headers passed on,
Orthanc's answer streamed back whole (or its refusal raised as the portal's error)."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict, StreamingHttpResponse
from django.utils.translation import gettext as _

from orthanc_bridge.client import get_client, orthanc_message
from web.errors import PortalError

PASSED_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "ETag")


def upstream_params(
    request: HttpRequest | QueryDict, *, drop: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """The query for Orthanc (of a request, or of a query already parsed).
    ``includefield=a,b`` (OHIF sends ``a%2Cb``) becomes repeated ``includefield`` parameters,
    a form Orthanc's DICOMweb plugin understands."""
    query = request if isinstance(request, QueryDict) else request.GET
    params: list[tuple[str, str]] = []
    for key, values in query.lists():
        if key in drop:
            continue
        for value in values:
            if key == "includefield":
                params += [(key, part) for part in value.split(",") if part]
            else:
                params.append((key, value))
    return params


def upstream_headers(request: HttpRequest) -> dict[str, str]:
    host = request.get_host()
    headers = {
        # Orthanc's plugin 1.7 copies the host verbatim: no quotes, even around host:port.
        "Forwarded": f"host={host};proto={request.scheme}",
        # Bodies pass through untouched: compressed only if the client itself accepts it.
        "Accept-Encoding": request.headers.get("Accept-Encoding", "identity"),
    }
    if accept := request.headers.get("Accept"):
        headers["Accept"] = accept
        if _frames_of_any_type(request.path, accept):
            # 'type="*/*"' (dicomweb-client's default) is refused by Orthanc's plugin 1.7; the
            # frames as stored are a valid answer to it. No Accept, "*/*" or a bare
            # "multipart/related" are left to Orthanc: Explicit VR Little Endian, as PS3.18 says.
            headers["Accept"] = FRAMES_AS_STORED
    return headers


FRAMES_AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'


def _frames_of_any_type(path: str, accept: str) -> bool:
    if "/frames/" not in path or path.rstrip("/").endswith("/rendered"):
        return False
    return 'type="*/*"' in accept.replace(" ", "").lower()


def stream_response(upstream) -> StreamingHttpResponse:
    """Orthanc's answer streamed as it comes. If Orthanc stalls for ORTHANC_TIMEOUT_SECONDS or
    its multipart answer ends before its closing boundary, the body raises instead of ending
    (client.stream_whole), so the server aborts the response: gunicorn drops the connection
    without the final chunk, and a Content-Length is left unmet. When the client goes away,
    Django closes the body and the upstream connection is released at once.

    A compressed answer (the client accepted gzip) hides its closing boundary inside the
    compressed bytes: it is passed on unchecked, and the client's own decoder notices a cut
    (gzip ends with its length and checksum)."""
    encoded = bool(upstream.headers.get("Content-Encoding"))
    closing = b"" if encoded else _multipart_closing(upstream.headers.get("Content-Type", ""))
    body = get_client().stream_whole(upstream, ending=closing, window=len(closing) + 8)
    response = StreamingHttpResponse(body, status=upstream.status_code)
    for header in PASSED_RESPONSE_HEADERS:
        if header in upstream.headers:
            response[header] = upstream.headers[header]
    if encoded:
        response["Content-Encoding"] = upstream.headers["Content-Encoding"]
    return response


def _multipart_closing(content_type: str) -> bytes:
    """The closing delimiter of a multipart body (b"" for other types)."""
    if not content_type.lower().startswith("multipart/"):
        return b""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode() + b"--"
    return b""


def orthanc_refusal(upstream) -> PortalError:
    """Orthanc's 3xx/4xx answer as the portal's error (Orthanc's text parsed by the client)."""
    try:
        if upstream.status_code < 400:
            # A redirect is never followed nor passed on: it could point anywhere.
            return PortalError(
                _("The image server answered with a redirect."),
                code="orthanc_redirect",
                status=502,
            )
        message = orthanc_message(upstream)
    finally:
        upstream.close()
    return PortalError(
        _("The image server refused: %(message)s") % {"message": message},
        code="orthanc_rejected",
        status=upstream.status_code,
    )
