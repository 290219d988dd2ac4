"""Reading share links: who sees which, the links of a patient's studies, what a link shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts import rights
from orthanc_bridge.index.models import IndexedStudy
from orthanc_bridge.shares.models import ShareLink, ShareLinkQuerySet
from patients.models import Patient


def share_list(*, user) -> ShareLinkQuerySet:
    """The links a user may list: their own; every link for readers of the audit trail."""
    links: ShareLinkQuerySet = ShareLink.objects.select_related(
        "patient", "created_by", "revoked_by"
    )
    if user.has_perm(rights.VIEW_AUDIT_LOG):
        return links
    return links.filter(created_by=user)


def study_links(*, user, patient: Patient) -> dict[str, list[ShareLink]]:
    """The active links of a patient's studies, by StudyInstanceUID, for the patient page: shown
    to holders of "share images" (who may revoke them) and to readers of the audit trail."""
    if not (user.has_perm(rights.SHARE_IMAGES) or user.has_perm(rights.VIEW_AUDIT_LOG)):
        return {}
    by_study: dict[str, list[ShareLink]] = defaultdict(list)
    links = ShareLink.objects.active().filter(patient=patient).select_related("created_by")
    for link in links.order_by("expires_at"):
        by_study[link.study_uid].append(link)
    return dict(by_study)


def shared_studies(shares: Iterable[ShareLink]) -> QuerySet[IndexedStudy]:
    """The indexed studies these links grant: each link's study, under its patient, and not
    held by another patient as well."""
    match = Q(pk__in=[])
    for share in shares:
        match |= Q(study_uid=share.study_uid, patient_id=share.patient_id)
    return IndexedStudy.objects.filter(match, uid_shared=False)


def shared_study(*, study_uid: str, patient_id: int) -> IndexedStudy | None:
    """The indexed study a link names (or is about to): that UID under that patient, held by
    no other patient."""
    return IndexedStudy.objects.filter(
        study_uid=study_uid, patient_id=patient_id, uid_shared=False
    ).first()
