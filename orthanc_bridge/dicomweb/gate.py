"""The decision Nginx asks for before it streams image bytes itself (``auth_request``).

Behind the production stack's Nginx (deploy/nginx/), a WADO-RS GET under
``/dicom-web/studies/{uid}/…`` is not proxied through Python: Nginx sends this endpoint a
subrequest without body carrying the client's credential (cookie or ``Authorization``) and the
original request line (``X-Original-URI``, ``X-Original-Method``), then proxies the untouched
request to Orthanc itself. The answer:

- 204 with ``X-Accel-Expires: DICOMWEB_DECISION_SECONDS`` — allowed. Nginx keeps it that long,
  keyed by the credential, the study UID and the query; ``X-Orthanc-Query`` hands back the query
  Orthanc must get (decoded and rewritten as dicomweb.upstream does for the Django path). The
  decision is made afresh here (not read from the portal's own cache), so a right removed
  stops working within DICOMWEB_DECISION_SECONDS, not twice that.
- 403 with ``X-Accel-Expires: 0`` — "not by Nginx": a refusal of any kind, a path outside the
  strict grammar, Orthanc unavailable. Nginx then hands the request itself to the DICOMweb view
  (dicomweb.proxy), which answers exactly as it does without Nginx — 401 with
  ``WWW-Authenticate``, 403, the 404 of a hidden study, 503 — and records nothing twice.

A share link's decision is kept until the link expires at the latest. "Images viewed" is
recorded here, once per user (or link and address), study and 10 minutes, as the view does.
Nginx refuses ``/internal/`` from outside; what this endpoint tells is only what the caller's
own credential may do.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from orthanc_bridge.client import literal_query
from orthanc_bridge.dicomweb import access, services
from orthanc_bridge.dicomweb.proxy import resolve
from orthanc_bridge.dicomweb.upstream import upstream_params
from web.errors import PortalError

PREFIX = "/dicom-web/"


@csrf_exempt  # a GET subrequest from Nginx; it changes nothing the caller could not do
@require_GET
def wado_decision(request: HttpRequest) -> HttpResponse:
    method = request.headers.get("X-Original-Method", "")
    path, _, query = request.headers.get("X-Original-URI", "").partition("?")
    # The raw path must already be in its plain form: nothing encoded, nothing to normalise.
    if method not in ("GET", "HEAD") or "%" in path or not path.startswith(PREFIX):
        return _not_by_nginx()
    try:
        route = resolve(path.removeprefix(PREFIX).strip("/"), "GET")
        if route.kind != "study" or route.upstream_path != path.rstrip("/"):
            return _not_by_nginx()
        caller = access.identify(request)
        owner = access.study_owner(caller, route.study_uid, fresh=True)
        services.view_record(request, caller, route.study_uid, owner)
    except PortalError:
        return _not_by_nginx()
    response = HttpResponse(status=204)
    keep = settings.DICOMWEB_DECISION_SECONDS
    share = caller.share_for(route.study_uid) if owner.share_id else None
    if share is not None:  # never kept past the link's expiry
        keep = max(0, min(keep, int((share.expires_at - timezone.now()).total_seconds())))
    response["X-Accel-Expires"] = str(keep)
    orthanc_query = literal_query(upstream_params(QueryDict(query)))
    response["X-Orthanc-Query"] = f"?{orthanc_query}" if orthanc_query else ""
    return response


def _not_by_nginx() -> HttpResponse:
    response = HttpResponse(status=403)
    response["X-Accel-Expires"] = "0"
    return response
