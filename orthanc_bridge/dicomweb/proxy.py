"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) through the portal: routing and proxying.

OHIF (same origin, session cookie) and REST clients (``Authorization: Bearer``) call
``/dicom-web/...``. Each request is checked for the user who makes it (dicomweb.access) by the
patients' visibility rule:

- QIDO answers keep only studies, series and instances whose PatientID belongs to a patient the
  user sees; ``limit``/``offset`` apply to that filtered list.
- Anything under ``/studies/{uid}`` needs that study's patient to be visible; otherwise 404.
- STOW-RS runs the ingest pipeline's safety check on every instance (dicomweb.stow).

Only the DICOMweb grammar below is routed, and the path asked of Orthanc is built from its
validated parts. Bodies are streamed in chunks both ways. Orthanc's credentials never leave the
server; the public host and scheme are sent to Orthanc in ``Forwarded`` so the URLs it writes in
its answers (``BulkDataURI``, ``RetrieveURL``) point back at this portal. Errors are raised as
the portal's own (web.errors) and answered as JSON.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from orthanc_bridge.access import require_image_viewer, visible_patient_ids
from orthanc_bridge.client import UnsafePath, deadline_in, get_client, orthanc_message
from orthanc_bridge.dicom_checks import UID_MAX_LENGTH, UID_PATTERN
from orthanc_bridge.dicomweb import access
from orthanc_bridge.dicomweb.stow import stow
from orthanc_bridge.studies.services import images_viewed_record
from orthanc_bridge.studies.thumbnails import thumbnail_response
from web.errors import BadRequest, MethodNotAllowed, NotFound, PortalError

logger = logging.getLogger(__name__)

NO_SUCH_RESOURCE = gettext_lazy("No such DICOMweb resource.")

# Nothing but a DICOM UID (dicom_checks.UID_PATTERN, length checked apart) may stand where a UID
# goes: the path sent to Orthanc is built from these parts only.
UID = UID_PATTERN
FRAMES = r"[0-9]+(?:,[0-9]+)*"
# What Orthanc's plugin writes in BulkDataURI: a tag, after one "tag/item" pair per sequence level.
TAG = r"[0-9A-Fa-f]{8}"
BULK = rf"{TAG}(?:/[0-9]{{1,9}}/{TAG})*"
# (pattern, methods, kind). Anything not matched is a 404.
STUDY = rf"^studies/(?P<study>{UID})"
SERIES = rf"{STUDY}/series/(?P<series>{UID})"
INSTANCE = rf"{SERIES}/instances/(?P<instance>{UID})"
ROUTES: list[tuple[re.Pattern[str], set[str], str]] = [
    (re.compile(r"^studies$"), {"GET", "POST"}, "qido-studies"),
    (re.compile(r"^series$"), {"GET"}, "qido-series"),
    (re.compile(r"^instances$"), {"GET"}, "qido-instances"),
    (re.compile(rf"{STUDY}$"), {"GET", "POST"}, "study"),
    (re.compile(rf"{STUDY}/(?:metadata|rendered|thumbnail|series|instances)$"), {"GET"}, "study"),
    (re.compile(rf"{SERIES}(?:/(?:metadata|rendered|thumbnail|instances))?$"), {"GET"}, "study"),
    (re.compile(rf"{INSTANCE}(?:/(?:metadata|rendered|thumbnail))?$"), {"GET"}, "study"),
    (re.compile(rf"{INSTANCE}/frames/{FRAMES}(?:/rendered)?$"), {"GET"}, "study"),
    (re.compile(rf"{INSTANCE}/bulk/{BULK}$"), {"GET"}, "study"),
    # STOW-RS to a study that is no UID: no instance can belong to it, and each is refused as
    # Orthanc refuses it (the value is compared, never sent anywhere).
    (re.compile(r"^studies/(?P<stow_target>[^/]{1,128})$"), {"POST"}, "stow-mismatch"),
]
PATIENT_ID_TAG = "00100020"
UPSTREAM_PAGE = 500
PASSED_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "ETag")


@dataclass
class Route:
    kind: str
    study_uid: str = ""
    # The path asked of Orthanc: "/dicom-web/" and the validated parts, nothing else.
    upstream_path: str = ""


def resolve(path: str, method: str) -> Route:
    """The route of a request path (already percent-decoded by Django); NotFound or
    MethodNotAllowed otherwise.

    Only the grammar above is accepted: no empty, "." or ".." segment and no "%" can pass, so
    the path given to Orthanc names exactly the resource that is authorized, under
    /dicom-web/studies/<that study's UID>/.
    """
    for pattern, methods, kind in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        uids = [v for k, v in match.groupdict().items() if v is not None and k != "stow_target"]
        if any(len(uid) > UID_MAX_LENGTH for uid in uids):
            raise NotFound(NO_SUCH_RESOURCE)
        upstream_path = f"/dicom-web/{path}"
        if kind == "stow-mismatch":
            if method not in methods:
                break
            return Route(kind, match.group("stow_target"), "")
        study_uid = match.groupdict().get("study") or ""
        if study_uid and not (
            posixpath.normpath(upstream_path) == upstream_path
            and (upstream_path + "/").startswith(f"/dicom-web/studies/{study_uid}/")
        ):
            raise NotFound(NO_SUCH_RESOURCE)  # unreachable with the grammar above: a second lock
        if method not in methods:
            raise MethodNotAllowed(
                _("%(method)s is not allowed here.") % {"method": method},
                headers={"Allow": ", ".join(sorted(methods))},
            )
        if path.endswith("/thumbnail"):
            kind = "thumbnail"  # Orthanc's plugin has none: made here (studies.thumbnails)
        return Route(kind, study_uid, upstream_path)
    raise NotFound(NO_SUCH_RESOURCE)


def upstream_params(request: HttpRequest, *, drop: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The query for Orthanc. ``includefield=a,b`` (OHIF sends ``a%2Cb``) becomes repeated
    ``includefield`` parameters, a form Orthanc's DICOMweb plugin understands."""
    params: list[tuple[str, str]] = []
    for key, values in request.GET.lists():
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
    Django closes the body and the upstream connection is released at once."""
    closing = _multipart_closing(upstream.headers.get("Content-Type", ""))
    body = get_client().stream_whole(upstream, ending=closing, window=len(closing) + 8)
    response = StreamingHttpResponse(body, status=upstream.status_code)
    for header in PASSED_RESPONSE_HEADERS:
        if header in upstream.headers:
            response[header] = upstream.headers[header]
    if upstream.headers.get("Content-Encoding"):
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


def qido(request: HttpRequest, route: Route, user: Any) -> HttpResponse:
    """Fetch matches from Orthanc page by page, keep the visible ones, apply limit/offset."""
    _require_json_answer(request)
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
        limit = int(request.GET["limit"]) if "limit" in request.GET else None
    except ValueError:
        raise BadRequest(_("limit and offset must be integers."), code="invalid") from None
    params = upstream_params(request, drop=("limit", "offset"))
    params.append(("includefield", PATIENT_ID_TAG))
    path = f"/dicom-web/{route.kind.removeprefix('qido-')}"
    client = get_client()
    kept: list[dict] = []
    upstream_offset = 0
    visible_cache: dict[str, bool] = {}
    # One bound for all the pages of one search, not one per page.
    deadline = deadline_in(settings.ORTHANC_TIMEOUT_SECONDS)
    while True:
        upstream = client.proxy(
            "GET",
            path,
            deadline=deadline,
            params=[*params, ("limit", str(UPSTREAM_PAGE)), ("offset", str(upstream_offset))],
            headers={
                **upstream_headers(request),
                "Accept": "application/dicom+json",
                "Accept-Encoding": "identity",  # parsed here, not passed on
            },
        )
        if upstream.status_code >= 300:
            raise orthanc_refusal(upstream)
        page = upstream.json()
        upstream.close()
        unknown = {
            _tag_value(item, PATIENT_ID_TAG)
            for item in page
            if _tag_value(item, PATIENT_ID_TAG) not in visible_cache
        }
        if unknown:
            visible = visible_patient_ids(user=user, patient_ids=list(unknown))
            visible_cache.update({pid: pid in visible for pid in unknown})
        kept += [item for item in page if visible_cache.get(_tag_value(item, PATIENT_ID_TAG))]
        enough = limit is not None and len(kept) >= offset + limit
        if len(page) < UPSTREAM_PAGE or enough:
            break
        upstream_offset += UPSTREAM_PAGE
    result = kept[offset : offset + limit if limit is not None else None]
    if "StudyInstanceUID" in request.GET and not _asked_for(request, PATIENT_ID_TAG):
        # Asked of Orthanc for the filter only: series or instances of one study do not carry
        # the study's attributes (searches across all studies do, PatientID included).
        for item in result:
            item.pop(PATIENT_ID_TAG, None)
    return HttpResponse(json.dumps(result), content_type="application/dicom+json")


def _asked_for(request: HttpRequest, tag: str) -> bool:
    fields = {f for value in request.GET.getlist("includefield") for f in value.split(",")}
    return bool(fields & {tag, "PatientID", "all"})


def _require_json_answer(request: HttpRequest) -> None:
    """Filtered answers are written here, in DICOM JSON only: XML is refused, not mislabelled."""
    accept = request.headers.get("Accept", "")
    if accept and not any(
        kind in accept for kind in ("application/dicom+json", "application/json", "*/*")
    ):
        raise PortalError(
            _("Searches are answered in application/dicom+json only."),
            code="not_acceptable",
            status=406,
        )


def _tag_value(item: dict, tag: str) -> str:
    values = item.get(tag, {}).get("Value") or [""]
    return str(values[0])


@csrf_exempt  # CSRF is checked below for session-authenticated writes; tokens need none
def dicomweb(request: HttpRequest, path: str) -> HttpResponseBase:
    route = resolve(path.strip("/"), request.method or "GET")
    caller = access.identify(request)
    if request.method == "POST":
        user = caller.user()
        if not caller.by_token:
            access.check_csrf(request)
        # The study may not exist yet: each stored instance is checked on its own.
        return stow(request, user, route.study_uid)
    if route.kind.startswith("qido-"):
        user = caller.user()
        require_image_viewer(user=user)
        return qido(request, route, user)
    owner = access.study_owner(caller, route.study_uid)
    images_viewed_record(
        user_id=caller.user_id, load_user=caller.user, study_uid=route.study_uid, owner=owner
    )
    if route.kind == "thumbnail":
        return thumbnail_response(route.upstream_path)
    try:
        upstream = get_client().proxy(
            "GET",
            route.upstream_path,
            params=upstream_params(request),
            headers=upstream_headers(request),
        )
    except UnsafePath:  # resolve() lets none through; the client refuses them again
        raise NotFound(NO_SUCH_RESOURCE) from None
    if upstream.status_code >= 300:
        raise orthanc_refusal(upstream)
    return stream_response(upstream)
