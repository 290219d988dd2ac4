"""What DICOMweb writes besides images: the audit event of images viewed, by the user or
through the share link that granted the study (dicomweb.access decided which)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.services import client_ip
from orthanc_bridge.access import StudyOwner
from orthanc_bridge.dicomweb.access import Caller
from orthanc_bridge.shares.services import share_viewed_record
from orthanc_bridge.studies.services import images_viewed_record


def view_record(request: HttpRequest, caller: Caller, study_uid: str, owner: StudyOwner) -> None:
    """The audit event of images viewed: by the user, or through the share link that granted
    the study (with the visitor's address and browser); at most one per 10 minutes."""
    if owner.share_id is None:
        images_viewed_record(
            user_id=int(caller.user_id or 0),
            load_user=caller.user,
            study_uid=study_uid,
            owner=owner,
        )
        return
    share_viewed_record(
        owner=owner,
        study_uid=study_uid,
        address=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
