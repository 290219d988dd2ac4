"""Writing share links and the audit events of their use.

Callers have authorized the actor and the study (shares.access): ``share_create`` receives the
StudyOwner that study_for_sharing returned, ``share_revoke`` a link share_for_revoking returned.
"""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from orthanc_bridge.access import StudyOwner
from orthanc_bridge.shares.models import ShareLink, token_new
from orthanc_bridge.studies.services import VIEW_AUDIT_WINDOW_SECONDS, study_label

USER_AGENT_KEPT = 200  # characters of the User-Agent written in an event


def share_create(
    *,
    actor,
    owner: StudyOwner,
    study_uid: str,
    expires_in_hours: int,
    allow_download: bool,
    note: str,
) -> tuple[ShareLink, str]:
    """A new link and its token (returned once: only its hash is kept)."""
    token, hashed = token_new()
    with transaction.atomic():
        share = ShareLink.objects.create(
            token_hash=hashed,
            study_uid=study_uid,
            study_repr=study_label(study_uid),
            patient_id=owner.pk,
            created_by=actor,
            expires_at=timezone.now() + datetime.timedelta(hours=expires_in_hours),
            allow_download=allow_download,
            note=note.strip(),
        )
        audit_record(
            actor=actor,
            action=Action.SHARE_CREATE,
            object_type="sharelink",
            object_id=str(share.pk),
            object_repr=share.study_repr,
            patient=owner,
            changes={
                "study": study_uid,
                "expires_at": share.expires_at,
                "allow_download": allow_download,
                "note": share.note,
            },
        )
    return share, token


def share_revoke(*, actor, share: ShareLink) -> ShareLink:
    """Revoke a link (an expired one too: it says so in the list); revoking it again changes
    and records nothing."""
    with transaction.atomic():
        updated = ShareLink.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        share.refresh_from_db()
        if updated:
            audit_record(
                actor=actor,
                action=Action.SHARE_REVOKE,
                object_type="sharelink",
                object_id=str(share.pk),
                object_repr=share.study_repr,
                patient=share.patient,
                changes={"study": share.study_uid},
            )
    return share


def _visit_record(
    action: Action,
    *,
    owner: StudyOwner,
    study_uid: str,
    study_repr: str,
    address: str,
    user_agent: str,
) -> None:
    """An event of a visitor using a link (``owner.share_id``): no actor, the link as the
    object, where from."""
    audit_record(
        actor=None,
        action=action,
        object_type="sharelink",
        object_id=str(owner.share_id),
        object_repr=study_repr,
        patient=owner,
        changes={
            "study": study_uid,
            "address": address,
            "user_agent": user_agent[:USER_AGENT_KEPT],
        },
    )


def share_opened_record(
    *, share: ShareLink, owner: StudyOwner, address: str, user_agent: str
) -> None:
    """Every opening of the link: an event, and the link's counters."""
    with transaction.atomic():
        ShareLink.objects.filter(pk=share.pk).update(
            opened_count=F("opened_count") + 1, last_opened_at=timezone.now()
        )
        _visit_record(
            Action.SHARE_OPEN,
            owner=owner,
            study_uid=share.study_uid,
            study_repr=share.study_repr,
            address=address,
            user_agent=user_agent,
        )


def share_viewed_record(
    *, owner: StudyOwner, study_uid: str, address: str, user_agent: str
) -> None:
    """One event per link, client address and 10-minute window, not one per frame."""
    key = f"audit:share-viewed:{owner.share_id}:{address}:{study_uid}"
    if not cache.add(key, 1, VIEW_AUDIT_WINDOW_SECONDS):
        return
    with transaction.atomic():
        _visit_record(
            Action.SHARE_VIEW,
            owner=owner,
            study_uid=study_uid,
            study_repr=study_label(study_uid),
            address=address,
            user_agent=user_agent,
        )


def share_download_record(
    *, share: ShareLink, owner: StudyOwner, address: str, user_agent: str
) -> None:
    with transaction.atomic():
        _visit_record(
            Action.SHARE_DOWNLOAD,
            owner=owner,
            study_uid=share.study_uid,
            study_repr=share.study_repr,
            address=address,
            user_agent=user_agent,
        )
