"""The OHIF viewer at /viewer/, served by Django from the files viewer.install put under var/.

Client routes (``/viewer/viewer?StudyInstanceUIDs=...``) answer index.html to logged-in users
and to visitors holding a share link (orthanc_bridge.shares.visitors);
a missing asset (``.js``, ``.wasm``, ``.css``...) stays a 404, or a missing chunk would come back
as HTML and fail obscurely. ``app-config.js`` is rendered from settings: one DICOMweb data source
on this origin and no secret of any kind (same-origin requests carry the session cookie). For a
visitor, the header shows a banner naming the portal and the link's expiry instead of the way
back to the patient, and the zip link when the link allows it.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from orthanc_bridge.shares.visitors import visitor_shares
from web.errors import ServiceUnavailable

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")


def _dist() -> Path:
    return Path(settings.OHIF_DIST_DIR)


@require_GET
def app_config(request: HttpRequest) -> HttpResponse:
    links = [] if request.user.is_authenticated else visitor_shares(request)
    shared = {
        link.study_uid: {
            "expires": date_format(localtime(link.expires_at), "SHORT_DATETIME_FORMAT"),
            "zip": reverse("orthanc_bridge:shared-archive", args=[link.pk])
            if link.allow_download
            else "",
        }
        for link in links
    }
    # Cache-Control: private, no-store (web.headers): it names the visitor's links.
    return render(
        request,
        "orthanc_bridge/app-config.js",
        {"visitor": bool(links), "shared_json": json.dumps(shared)},
        content_type="text/javascript",
    )


@require_GET
def viewer(request: HttpRequest, path: str = "") -> HttpResponseBase:
    dist = _dist()
    if not (dist / "index.html").exists():
        raise ServiceUnavailable(
            _("The viewer is not installed. Run make run once."), code="viewer_not_installed"
        )
    if path:
        candidate = (dist / path).resolve()
        if candidate.is_relative_to(dist.resolve()) and candidate.is_file():
            response = FileResponse(candidate.open("rb"))
            # Hashed bundle names never change content; the rest is revalidated.
            hashed = any(len(part) >= 16 and part.isalnum() for part in candidate.name.split("."))
            response["Cache-Control"] = (
                "public, max-age=31536000, immutable" if hashed else "no-cache"
            )
            return response
        if "." in path.rsplit("/", 1)[-1]:
            raise Http404("No such viewer file.")
    # A client route of the viewer: the page itself, for logged-in users and link holders.
    if not request.user.is_authenticated and not visitor_shares(request):
        return redirect_to_login(request.get_full_path())
    response = FileResponse((dist / "index.html").open("rb"), content_type="text/html")
    response["Cache-Control"] = "no-cache"
    return response
