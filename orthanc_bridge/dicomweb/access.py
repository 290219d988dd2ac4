"""Who makes a DICOMweb request, and may they: identity and cached access decisions.

Callers are identified by ``Authorization: Bearer <access token>`` or the session cookie.
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
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from orthanc_bridge.access import StudyOwner, study_for_viewing
from web.errors import Forbidden, NotAuthenticated, PortalError

LOGIN_HINT = {"WWW-Authenticate": 'Bearer realm="dicom-web"'}


class TokenInvalid(NotAuthenticated):
    code = "token_not_valid"


class Caller:
    """Who makes the request. The user row is read only when it is needed (a decision not in
    the cache, an audit event to write)."""

    def __init__(
        self, user_id: int, *, credential: str, token: Any = None, user: Any = None
    ) -> None:
        self.user_id = user_id
        # What decisions are cached under: this token (its jti) or this session, never the user
        # alone, so a revoked token's decision is never reused by another credential.
        self.credential = credential
        self.token = token
        self._user = user

    @property
    def by_token(self) -> bool:
        return self.token is not None

    def user(self) -> Any:
        """The caller's user, checked as DRF would (a deleted or inactive user is refused)."""
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
    """Bearer access token, else the session; NotAuthenticated for anyone else."""
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
    if not user.is_authenticated:
        raise NotAuthenticated(
            _("Log in, or send Authorization: Bearer <token>."), headers=LOGIN_HINT
        )
    session = hashlib.sha256((request.session.session_key or "").encode()).hexdigest()[:32]
    return Caller(int(str(user.pk)), credential=f"session:{session}", user=user)


def study_owner(caller: Caller, study_uid: str, *, fresh: bool = False) -> StudyOwner:
    """The patient of the study if the caller may view it; the cached refusal raised again.

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
