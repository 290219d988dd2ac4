"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) streamed from Orthanc, authorized for each request.

OHIF (same origin, session cookie) and REST clients (``Authorization: Bearer``) call
``/dicom-web/...``. Each request is checked for the user who makes it with the patients'
visibility rule (patients/selectors.py):

- QIDO answers keep only studies, series and instances whose PatientID belongs to a patient the
  user sees; ``limit``/``offset`` apply to that filtered list.
- Anything under ``/studies/{uid}`` needs that study's patient to be visible; otherwise 404.
- STOW-RS runs the upload safety check on every instance.

Bodies are streamed in chunks both ways. Orthanc's credentials never leave the server; the
public host and scheme are sent to Orthanc in ``Forwarded`` so the URLs it writes in its answers
(``BulkDataURI``, ``RetrieveURL``) point back at this portal.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from accounts import rights
from orthanc_bridge import selectors, services
from orthanc_bridge.client import (
    OrthancUnavailable,
    UnsafePath,
    deadline_in,
    get_client,
)

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# DICOM UIDs (PS3.5 9.1): digits in components separated by single dots, at most 64 characters
# (checked apart). Nothing else may stand where a UID goes: the path sent to Orthanc is built
# from these parts only.
UID = r"[0-9]+(?:\.[0-9]+)*"
UID_MAX_LENGTH = 64
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
]
QIDO_LEVEL_TAG = {
    "qido-studies": "0020000D",
    "qido-series": "0020000E",
    "qido-instances": "00080018",
}
PATIENT_ID_TAG = "00100020"
UPSTREAM_PAGE = 500
PASSED_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "ETag")


@dataclass
class Route:
    kind: str
    study_uid: str = ""
    # The path asked of Orthanc: "/dicom-web/" and the validated parts, nothing else.
    upstream_path: str = ""


def json_error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _not_found() -> JsonResponse:
    return json_error(404, "not_found", "No such DICOMweb resource.")


def resolve(path: str, method: str) -> Route | JsonResponse:
    """The route of a request path (already percent-decoded by Django), or an error answer.

    Only the grammar above is accepted: no empty, "." or ".." segment and no "%" can pass, so
    the path given to Orthanc names exactly the resource that is authorized, under
    /dicom-web/studies/<that study's UID>/.
    """
    for pattern, methods, kind in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        uids = [uid for uid in match.groupdict().values() if uid is not None]
        if any(len(uid) > UID_MAX_LENGTH for uid in uids):
            return _not_found()
        upstream_path = f"/dicom-web/{path}"
        study_uid = match.groupdict().get("study") or ""
        if study_uid and not (
            posixpath.normpath(upstream_path) == upstream_path
            and (upstream_path + "/").startswith(f"/dicom-web/studies/{study_uid}/")
        ):
            return _not_found()  # unreachable with the grammar above: a second lock
        if method not in methods:
            return json_error(405, "method_not_allowed", f"{method} is not allowed here.")
        return Route(kind, study_uid, upstream_path)
    return _not_found()


class Caller:
    """Who makes the request. The user row is read only when a decision is not cached, so a
    viewer's hundreds of frame requests for one study cost no database query with a token."""

    def __init__(self, user_id: int, *, token: Any = None, user: Any = None) -> None:
        self.user_id = user_id
        self.token = token
        self._user = user

    @property
    def by_token(self) -> bool:
        return self.token is not None

    def user(self):
        if self._user is None:
            self._user = JWTAuthentication().get_user(self.token)
        return self._user


def identify(request: HttpRequest) -> Caller | JsonResponse:
    """Bearer access token, else the session; an error response for anyone else."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            raw = header.removeprefix("Bearer ").strip().encode()
            token = JWTAuthentication().get_validated_token(raw)
            user_id = int(str(token[api_settings.USER_ID_CLAIM]))
        except (AuthenticationFailed, KeyError, ValueError, TypeError) as exc:
            detail = getattr(exc, "detail", exc)
            if isinstance(detail, dict):
                detail = detail.get("detail", detail)
            return json_error(401, "token_not_valid", str(detail))
        return Caller(user_id, token=token)
    user = getattr(request, "user", AnonymousUser())
    if not user.is_authenticated:
        return json_error(
            401, "not_authenticated", "Log in, or send Authorization: Bearer <token>."
        )
    return Caller(int(str(user.pk)), user=user)


def _load_user(caller: Caller):
    """The caller's user, checked as DRF would (a deleted or inactive user is refused)."""
    try:
        return caller.user()
    except AuthenticationFailed as exc:
        detail = getattr(exc, "detail", exc)
        if isinstance(detail, dict):
            detail = detail.get("detail", detail)
        return json_error(401, "token_not_valid", str(detail))


FORBIDDEN, HIDDEN, CONFLICT, ALLOWED = "forbidden", "hidden", "conflict", "allowed"


def study_decision(caller: Caller, study_uid: str) -> str | JsonResponse:
    """View-images right and study visibility together, cached per (user, study) for
    DICOMWEB_DECISION_SECONDS: removing a user from a group, or deactivating them, takes
    effect within that bound."""
    key = f"dicomweb:decision:{caller.user_id}:{study_uid}"
    decision = cache.get(key)
    if decision is None:
        user = _load_user(caller)
        if isinstance(user, JsonResponse):
            return user
        if not user.has_perm(rights.VIEW_IMAGES):
            decision = FORBIDDEN
        else:
            visibility, _patient_id = selectors.study_visibility_for(user=user, study_uid=study_uid)
            decision = {
                selectors.VISIBLE: ALLOWED,
                selectors.HIDDEN: HIDDEN,
                selectors.CONFLICT: CONFLICT,
            }[visibility]
        cache.set(key, decision, settings.DICOMWEB_DECISION_SECONDS)
    return decision


def _csrf_protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    """Session-authenticated writes need the CSRF token, as every form of the portal does."""
    check = CsrfViewMiddleware(lambda r: HttpResponse())
    check.process_request(request)
    # Any view not marked csrf_exempt: the check is what matters, not the view.
    reason = check.process_view(request, _csrf_protected, (), {})
    if reason is not None:
        return json_error(403, "csrf_failed", "CSRF check failed: send the X-CSRFToken header.")
    return None


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
    if "/frames/" in request.path and _accepts_any_type(accept):
        # "Any type" (dicomweb-client's default) is refused by Orthanc's plugin 1.7; the frames
        # as stored are a valid answer to it.
        headers["Accept"] = FRAMES_AS_STORED
    return headers


FRAMES_AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'


def _accepts_any_type(accept: str | None) -> bool:
    if not accept:
        return True
    normalized = accept.replace(" ", "").lower()
    return normalized in {"*/*", "multipart/related", 'multipart/related;type="*/*"'} or (
        'type="*/*"' in normalized
    )


class StreamBroken(Exception):
    """Orthanc's answer stopped before its end; the client's connection is aborted."""


def stream_response(request: HttpRequest, upstream) -> StreamingHttpResponse:
    """Orthanc's answer streamed as it comes. If Orthanc stalls for ORTHANC_TIMEOUT_SECONDS or
    its answer ends early, the body raises instead of ending, so the server aborts the response
    and a truncated body is never taken for a whole one."""
    closing = _multipart_closing(upstream.headers.get("Content-Type", ""))

    def body() -> Iterator[bytes]:
        # When the client goes away Django closes this generator: the upstream connection is
        # released at once instead of finishing the transfer.
        tail = b""
        try:
            for chunk in upstream.raw.stream(CHUNK, decode_content=False):
                if closing:
                    tail = (tail + chunk)[-len(closing) - 8 :]
                yield chunk
            # Orthanc streams multipart answers with "Connection: close" and no length: a crash
            # mid-way looks like a clean end, but the closing boundary is missing.
            if closing and closing not in tail:
                raise StreamBroken("Orthanc's multipart answer ended before its closing boundary")
        except (urllib3.exceptions.HTTPError, OSError, StreamBroken) as exc:
            if not isinstance(exc, StreamBroken):
                get_client().mark_unresponsive(f"stream of {request.path}: {exc}")
            logger.warning("DICOMweb stream of %s broken: %s", request.path, exc)
            # Raising (not returning) makes the server abort the response: gunicorn drops the
            # connection without the final chunk, and a Content-Length is left unmet.
            raise StreamBroken(str(exc)) from exc
        finally:
            upstream.close()

    response = StreamingHttpResponse(body(), status=upstream.status_code)
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


def orthanc_error_response(upstream) -> JsonResponse:
    if upstream.status_code < 400:
        # A redirect is never followed nor passed on: it could point anywhere.
        upstream.close()
        return json_error(502, "orthanc_redirect", "The image server answered with a redirect.")
    try:
        body = upstream.json()
        message = body.get("Details") or body.get("Message") or str(body)
    except ValueError:
        message = upstream.text[:300] or upstream.reason
    finally:
        upstream.close()
    return json_error(
        upstream.status_code, "orthanc_rejected", f"The image server refused: {message}"
    )


def _qido_filtered(request: HttpRequest, route: Route, user) -> HttpResponse:
    """Fetch matches from Orthanc page by page, keep the visible ones, apply limit/offset."""
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
        limit = int(request.GET["limit"]) if "limit" in request.GET else None
    except ValueError:
        return json_error(400, "invalid", "limit and offset must be integers.")
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
            return orthanc_error_response(upstream)
        page = upstream.json()
        upstream.close()
        unknown = {
            _tag_value(item, PATIENT_ID_TAG)
            for item in page
            if _tag_value(item, PATIENT_ID_TAG) not in visible_cache
        }
        if unknown:
            visible = selectors.visible_dicom_patient_ids_for(user=user, patient_ids=list(unknown))
            visible_cache.update({pid: pid in visible for pid in unknown})
        kept += [item for item in page if visible_cache.get(_tag_value(item, PATIENT_ID_TAG))]
        enough = limit is not None and len(kept) >= offset + limit
        if len(page) < UPSTREAM_PAGE or enough:
            break
        upstream_offset += UPSTREAM_PAGE
    result = kept[offset : offset + limit if limit is not None else None]
    return HttpResponse(json.dumps(result), content_type="application/dicom+json")


def _tag_value(item: dict, tag: str) -> str:
    values = item.get(tag, {}).get("Value") or [""]
    return str(values[0])


def _stow(request: HttpRequest, user, study_uid: str) -> HttpResponse:
    if not user.has_perm(rights.UPLOAD_DICOM):
        return json_error(
            403, "permission_denied", "Storing images needs the 'upload DICOM' right."
        )
    content_type = request.headers.get("Content-Type", "")
    try:
        result = services.stow_store(
            actor=user, stream=request, content_type=content_type, study_uid=study_uid
        )
    except services.StowRequestInvalid as exc:
        return json_error(415 if "multipart" in str(exc) else 400, "invalid", str(exc))
    return HttpResponse(
        json.dumps(result.dicom_json(base_url=_base_url(request))),
        status=result.status_code,
        content_type="application/dicom+json",
    )


def _base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}/dicom-web"


def _forbidden() -> JsonResponse:
    return json_error(403, "permission_denied", "Viewing images needs the 'view images' right.")


@csrf_exempt  # CSRF is checked below for session-authenticated writes; tokens need none
def dicomweb(request: HttpRequest, path: str) -> HttpResponseBase:
    route = resolve(path.strip("/"), request.method or "GET")
    if isinstance(route, HttpResponse):
        return route
    caller = identify(request)
    if isinstance(caller, HttpResponse):
        return caller
    try:
        if route.kind.startswith("qido-") or request.method == "POST":
            user = _load_user(caller)
            if isinstance(user, HttpResponse):
                return user
            if not user.has_perm(rights.VIEW_IMAGES):
                return _forbidden()
            if request.method == "POST":
                if not caller.by_token and (failure := _csrf_failure(request)) is not None:
                    return failure
                # The study may not exist yet: each stored instance is checked on its own.
                return _stow(request, user, route.study_uid)
            return _qido_filtered(request, route, user)
        decision = study_decision(caller, route.study_uid)
        if isinstance(decision, HttpResponse):
            return decision
        if decision == FORBIDDEN:
            return _forbidden()
        if decision == HIDDEN:
            return json_error(404, "not_found", "No such study.")
        if decision == CONFLICT:
            return json_error(
                409,
                "study_uid_conflict",
                "This StudyInstanceUID is held by several patients in the image server; it is "
                "withheld until an administrator resolves it.",
            )
        services.images_viewed_record(user=caller, study_uid=route.study_uid)
        upstream = get_client().proxy(
            "GET",
            route.upstream_path,
            params=upstream_params(request),
            headers=upstream_headers(request),
        )
    except OrthancUnavailable as exc:
        logger.warning("DICOMweb %s: %s", path, exc)
        return json_error(503, "orthanc_unavailable", "The image server is unavailable.")
    except UnsafePath:  # resolve() lets none through; the client refuses them again
        return _not_found()
    if upstream.status_code >= 300:
        return orthanc_error_response(upstream)
    return stream_response(request, upstream)
