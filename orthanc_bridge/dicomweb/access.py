"""Who makes a DICOMweb request, and may they: identity and cached access decisions.

Callers are identified by ``Authorization: Bearer <access token>``, the session cookie, or the
share links this browser opened (orthanc_bridge.shares.visitors), for visitors without a
session. A link grants its one study, read-only, to anyone holding it: searches list that study,
anything under it is served; any other study, and every write, is refused to a visitor as to an
anonymous client (401). A logged-in user, or an API token, is never granted anything by links.
A study's decision (orthanc_bridge.access.study_for_viewing) is cached per (credential, study)
for
DICOMWEB_DECISION_SECONDS together with the patient it found, so a viewer's hundreds of frame
requests cost no database query with a token, and recording "images viewed" needs no second
lookup. Removing a user from a group, or deactivating them, takes effect within that bound.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from orthanc_bridge.access import (
    StudyOwner,
    require_image_viewer,
    study_for_viewing,
    visible_studies,
)
from orthanc_bridge.index.models import IndexedStudy
from orthanc_bridge.shares.access import share_owner
from orthanc_bridge.shares.models import ShareLink
from orthanc_bridge.shares.selectors import shared_studies
from orthanc_bridge.shares.visitors import visitor_shares
from web.errors import Forbidden, NotAuthenticated, PortalError

LOGIN_HINT = {"WWW-Authenticate": 'Bearer realm="dicom-web"'}
LOGIN_FIRST = gettext_lazy("Log in, or send Authorization: Bearer <token>.")


class TokenInvalid(NotAuthenticated):
    code = "token_not_valid"


class Caller:
    """Who makes the request: a user (``user_id``), or a visitor holding share links
    (``user_id`` None, ``shares``). The user row is read only when it is needed (a decision not
    in the cache, an audit event to write)."""

    def __init__(
        self,
        user_id: int | None,
        *,
        credential: str,
        token: Any = None,
        user: Any = None,
        shares: tuple[ShareLink, ...] = (),
    ) -> None:
        self.user_id = user_id
        # What decisions are cached under: this token (its jti) or this session, never the user
        # alone, so a revoked token's decision is never reused by another credential.
        self.credential = credential
        self.token = token
        self._user = user
        self.shares = shares

    @property
    def by_token(self) -> bool:
        return self.token is not None

    def share_for(self, study_uid: str) -> ShareLink | None:
        return next((share for share in self.shares if share.study_uid == study_uid), None)

    def user(self) -> Any:
        """The caller's user, checked as DRF would (a deleted or inactive user is refused); a
        visitor with share links only is refused as any anonymous client is."""
        if self.user_id is None:
            raise NotAuthenticated(LOGIN_FIRST, headers=LOGIN_HINT)
        if self._user is None:
            try:
                self._user = JWTAuthentication().get_user(self.token)
            except AuthenticationFailed as exc:
                raise TokenInvalid(_drf_detail(exc), headers=LOGIN_HINT) from exc
        return self._user


def _drf_detail(exc: Exception) -> str:
    detail = getattr(exc, "detail", exc)
    if isinstance(detail, dict):
        detail = detail.get("detail", detail)
    return str(detail)


def identify(request: HttpRequest) -> Caller:
    """Bearer access token, else the session and the share links opened in this browser;
    NotAuthenticated for anyone else."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            raw = header.removeprefix("Bearer ").strip().encode()
            token = JWTAuthentication().get_validated_token(raw)
            user_id = int(str(token[api_settings.USER_ID_CLAIM]))
        except (AuthenticationFailed, KeyError, ValueError, TypeError) as exc:
            raise TokenInvalid(_drf_detail(exc), headers=LOGIN_HINT) from exc
        jti = str(token.get(api_settings.JTI_CLAIM, ""))
        return Caller(user_id, credential=f"token:{jti}", token=token)
    user = getattr(request, "user", AnonymousUser())
    if user.is_authenticated:
        # Links never add to a session's rights: a link opened in a staff member's browser
        # (sent there on purpose or not) changes nothing in what they see, or how it is audited.
        session = hashlib.sha256((request.session.session_key or "").encode()).hexdigest()[:32]
        return Caller(int(str(user.pk)), credential=f"session:{session}", user=user)
    shares = tuple(visitor_shares(request))
    if shares:
        links = ",".join(sorted(str(share.pk) for share in shares))
        return Caller(None, credential=f"links:{links}", shares=shares)
    raise NotAuthenticated(LOGIN_FIRST, headers=LOGIN_HINT)


def searchable_studies(caller: Caller) -> QuerySet[IndexedStudy]:
    """The studies a caller's searches may list: the user's (with "view images"), or those of
    a visitor's share links."""
    if caller.user_id is None:
        return shared_studies(caller.shares)
    user = caller.user()
    require_image_viewer(user=user)
    return visible_studies(user=user)


def study_owner(caller: Caller, study_uid: str, *, fresh: bool = False) -> StudyOwner:
    """The patient of the study if the caller may view it, by their own rights or, for a
    visitor, by a share link they hold; the refusal raised otherwise (a visitor's as an
    anonymous client's)."""
    if caller.user_id is not None:
        return _user_decision(caller, study_uid, fresh=fresh)
    share = caller.share_for(study_uid)
    if share is None:
        raise NotAuthenticated(LOGIN_FIRST, headers=LOGIN_HINT)
    key = f"dicomweb:share-decision:{share.pk}:{study_uid}"
    decision: Any = None if fresh else cache.get(key)
    if decision is None:
        owner = share_owner(share)  # the study no longer the link's patient's: nothing opens
        decision = (owner.pk, owner.external_id)
        cache.set(key, decision, settings.DICOMWEB_DECISION_SECONDS)
    return StudyOwner(pk=decision[0], external_id=decision[1], share_id=share.pk)


def _user_decision(caller: Caller, study_uid: str, *, fresh: bool) -> StudyOwner:
    """The user's own decision, cached per credential and study.

    Only decisions about an existing study are cached (allowed, forbidden, conflict): a caller
    who cannot be authenticated, or a study not found, is asked afresh on every request.
    ``fresh`` decides again without reading the cache (Nginx keeps the answer itself, so the
    two windows never add up).
    """
    key = f"dicomweb:decision:{caller.credential}:{study_uid}"
    decision: Any = None if fresh else cache.get(key)
    if decision is None:
        user = caller.user()  # an authentication failure is raised here, never cached
        try:
            owner = study_for_viewing(user=user, study_uid=study_uid)
            decision = ("allowed", owner.pk, owner.external_id)
        except PortalError as refusal:
            if refusal.status >= 500 or refusal.status == 404:
                # Orthanc unavailable: nothing to remember. Not found: the study may be stored
                # a second later (STOW, a modality), and must then be found at once.
                raise
            decision = ("refused", type(refusal), refusal.detail, refusal.code)
        cache.set(key, decision, settings.DICOMWEB_DECISION_SECONDS)
    if decision[0] == "allowed":
        return StudyOwner(pk=decision[1], external_id=decision[2])
    _kind, error_class, detail, code = decision
    raise error_class(detail, code=code)


def check_csrf(request: HttpRequest) -> None:
    """Session-authenticated writes need the CSRF token, as every form of the portal does."""
    check = CsrfViewMiddleware(lambda r: HttpResponse())
    check.process_request(request)
    # Any view not marked csrf_exempt: the check is what matters, not the view.
    if check.process_view(request, _csrf_protected, (), {}) is not None:
        raise Forbidden(_("CSRF check failed: send the X-CSRFToken header."), code="csrf_failed")


def _csrf_protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse()
