"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) through the portal: routing and proxying.

OHIF (same origin, session cookie) and REST clients (``Authorization: Bearer``) call
``/dicom-web/...``. Each request is checked for the user who makes it (dicomweb.access) by the
patients' visibility rule:

- QIDO is answered from the study index, restricted to the studies of the patients the user
  sees, or of the share links the browser opened (dicomweb.qido, dicomweb.access).
- Anything under ``/studies/{uid}`` needs that study's patient to be visible; otherwise 404.
- STOW-RS runs the ingest pipeline's safety check on every instance (dicomweb.stow).

Only the DICOMweb grammar below is routed, and the path asked of Orthanc is built from its
validated parts. Bodies are streamed in chunks both ways. Orthanc's credentials never leave the
server; the public host and scheme are sent to Orthanc in ``Forwarded`` so the URLs it writes in
its answers (``BulkDataURI``, ``RetrieveURL``) point back at this portal. Errors are raised as
the portal's own (web.errors) and answered as JSON. Orthanc's answers are passed on by
dicomweb.upstream.
"""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import dataclass

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from orthanc_bridge.client import UnsafePath, get_client
from orthanc_bridge.dicom_checks import UID_MAX_LENGTH, UID_PATTERN
from orthanc_bridge.dicomweb import access, services
from orthanc_bridge.dicomweb.qido import qido
from orthanc_bridge.dicomweb.stow import stow
from orthanc_bridge.dicomweb.upstream import (
    orthanc_refusal,
    stream_response,
    upstream_headers,
    upstream_params,
)
from orthanc_bridge.studies.thumbnails import thumbnail_response
from web.errors import MethodNotAllowed, NotFound

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
        studies = access.searchable_studies(caller)
        # Only staff searches may make the portal look a new UID up in Orthanc.
        level = route.kind.removeprefix("qido-")
        return qido(request, level, studies, look_up_new_uids=caller.user_id is not None)
    owner = access.study_owner(caller, route.study_uid)
    services.view_record(request, caller, route.study_uid, owner)
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
