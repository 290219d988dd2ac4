"""Which share links this browser has opened: a signed cookie naming them.

Opening ``/s/<token>`` adds the link's id to the ``preview_shares`` cookie (signed with
SECRET_KEY, HttpOnly, SameSite=Lax, Secure behind HTTPS), so the viewer's own requests
(DICOMweb, the zip) are made with no token in any URL. Every request reads the named links
again: a revoked or expired one grants nothing from that moment (Nginx's kept decisions
aside, bounded by DICOMWEB_DECISION_SECONDS).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from orthanc_bridge.shares.models import ShareLink

COOKIE_NAME = "preview_shares"
SALT = "orthanc_bridge.shares.visitors"
MAX_LINKS = 10  # the latest opened in this browser


def _cookie_age() -> int:
    return settings.SHARE_LINK_MAX_HOURS * 3600


def visitor_share_ids(request: HttpRequest) -> list[int]:
    raw = request.get_signed_cookie(COOKIE_NAME, default="", salt=SALT, max_age=_cookie_age())
    return [int(part) for part in str(raw).split(",") if part.isdigit()][:MAX_LINKS]


def visitor_shares(request: HttpRequest) -> list[ShareLink]:
    """The active links this browser opened (read once per request)."""
    cached = getattr(request, "_visitor_shares", None)
    if cached is None:
        ids = visitor_share_ids(request)
        cached = (
            list(ShareLink.objects.active().filter(pk__in=ids).select_related("patient"))
            if ids
            else []
        )
        request._visitor_shares = cached  # type: ignore[attr-defined]
    return cached


def visitor_cookie_add(response: HttpResponse, request: HttpRequest, share: ShareLink) -> None:
    ids = [share.pk, *[pk for pk in visitor_share_ids(request) if pk != share.pk]]
    response.set_signed_cookie(
        COOKIE_NAME,
        ",".join(str(pk) for pk in ids[:MAX_LINKS]),
        salt=SALT,
        max_age=_cookie_age(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
