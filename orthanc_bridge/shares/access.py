"""May this user share, see or revoke a link; what does a token open: asked one way.

- Sharing needs the "share images" right and the study's images (orthanc_bridge.access).
- Revoking: the link's author, or a holder of "share images" who sees the patient's images
  (a colleague can stop a link while its author is away).
- A token is looked up by its hash. Unknown, expired and revoked links get the same answer,
  and each such lookup counts against the client's address: past SHARE_LOOKUP_FAILURES_MAX in
  SHARE_LOOKUP_WINDOW_SECONDS, every lookup from it is refused until the window ends.
- A link grants its study only while that study still belongs to the link's patient alone.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import rights
from orthanc_bridge.access import StudyOwner, require_image_viewer, study_for_viewing
from orthanc_bridge.shares.models import ShareLink, token_hash
from orthanc_bridge.shares.selectors import share_list
from orthanc_bridge.studies.selectors import study_patient_ids
from patients.access import require_right
from patients.selectors import patient_visible_queryset
from web import ratelimit
from web.errors import Forbidden, NotFound, PortalError

LINK_NOT_VALID = gettext_lazy(
    "This link does not open anything: it has expired, been revoked, or never existed. Ask "
    "the person who sent it for a new one."
)
# What token_new() writes (base64url); anything else is not looked up at all.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")


class ShareLinkInvalid(NotFound):
    """Kept by no cache, as every answer (web.headers): a revoked link must not open again."""

    code = "share_link_invalid"
    default_detail = LINK_NOT_VALID


class ShareLookupsThrottled(PortalError):
    status, code = 429, "share_lookups_throttled"
    default_detail = gettext_lazy(
        "Too many links that do not open anything were tried from your address. Wait a few "
        "minutes and try again."
    )


def require_sharer(*, user) -> None:
    require_image_viewer(user=user)
    require_right(user, rights.SHARE_IMAGES, _("Sharing images needs the 'share images' right."))


def require_share_lister(*, user) -> None:
    """The list of links: for holders of "share images" (their own) and audit readers (all)."""
    if not (user.has_perm(rights.SHARE_IMAGES) or user.has_perm(rights.VIEW_AUDIT_LOG)):
        raise Forbidden(_("Listing share links needs the 'share images' right."))


def study_for_sharing(*, user, study_uid: str) -> StudyOwner:
    """The patient of a study the user may share (its images visible, the right held)."""
    require_sharer(user=user)
    return study_for_viewing(user=user, study_uid=study_uid)


def share_for_revoking(*, user, pk: int) -> ShareLink:
    share = ShareLink.objects.filter(pk=pk).select_related("patient").first()
    if share is None:
        raise NotFound(_("No such share link."))
    if share.created_by_id == user.pk:
        return share
    may_share = user.has_perm(rights.SHARE_IMAGES) and user.has_perm(rights.VIEW_IMAGES)
    if may_share and patient_visible_queryset(user=user).filter(pk=share.patient_id).exists():
        return share
    if share_list(user=user).filter(pk=pk).exists():
        raise Forbidden(_("Only its author or a colleague who may share its images can revoke it."))
    raise NotFound(_("No such share link."))


def share_for_token(*, token: str, client_address: str) -> ShareLink:
    """The active link this token opens; ShareLinkInvalid (404) for any other token, the same
    for all; ShareLookupsThrottled (429) once the address tried too many."""
    key = f"share-lookups:{client_address}"
    if ratelimit.attempts_counted(key) >= settings.SHARE_LOOKUP_FAILURES_MAX:
        raise ShareLookupsThrottled(
            headers={"Retry-After": str(settings.SHARE_LOOKUP_WINDOW_SECONDS)}
        )
    share = None
    if TOKEN_SHAPE.fullmatch(token):
        share = ShareLink.objects.active().filter(token_hash=token_hash(token)).first()
    if share is None:
        ratelimit.attempt_record(key, window_seconds=settings.SHARE_LOOKUP_WINDOW_SECONDS)
        raise ShareLinkInvalid()
    return share


def share_owner(share: ShareLink) -> StudyOwner:
    """The link's patient, while its study still belongs to that patient alone; else the
    link opens nothing (ShareLinkInvalid)."""
    patient_ids = study_patient_ids(share.study_uid)
    if patient_ids != {share.patient.external_id}:
        raise ShareLinkInvalid()
    return StudyOwner(pk=share.patient_id, external_id=share.patient.external_id, share_id=share.pk)
