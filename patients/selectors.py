"""Who sees which patient: the one place this rule lives.

patients.access (fetch-and-authorize) and the image side build on patient_visible_queryset.
- "view all patients": every patient;
- else "view the patients of my groups": patients sharing at least one group with the user;
- else nothing.
A patient outside a user's view does not exist for them (404, never 403).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from accounts import rights
from patients.models import Patient, search_fold

ORDERING_FIELDS = {
    "external_id": ("external_id", "id"),
    "family_name": ("family_name", "given_name", "id"),
    "given_name": ("given_name", "family_name", "id"),
    "birth_date": ("birth_date", "id"),
    "updated_at": ("updated_at", "id"),
    "created_at": ("created_at", "id"),
}
DEFAULT_ORDERING = "family_name"


def sees_every_patient(*, user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.has_perm(rights.VIEW_ALL_PATIENTS)
    )


def patient_visible_queryset(*, user) -> QuerySet[Patient]:
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if sees_every_patient(user=user):
        return Patient.objects.all()
    if user.has_perm(rights.VIEW_GROUP_PATIENTS):
        group_ids = list(user.groups.values_list("id", flat=True))
        if not group_ids:
            return Patient.objects.none()
        # EXISTS rather than a join: no duplicate rows, so no DISTINCT before paging.
        shares_a_group = Patient.groups.through.objects.filter(
            patient_id=OuterRef("pk"), group_id__in=group_ids
        )
        return Patient.objects.filter(Exists(shares_a_group))
    return Patient.objects.none()


def normalize_ordering(ordering: str | None) -> str:
    """A known ordering (``field`` or ``-field``), else the default."""
    ordering = (ordering or "").strip()
    return ordering if ordering.lstrip("-") in ORDERING_FIELDS else DEFAULT_ORDERING


def patient_list_for(
    *, user, search: str = "", ordering: str = "", group_id: int | None = None
) -> QuerySet[Patient]:
    patients = patient_visible_queryset(user=user)
    if group_id is not None:
        patients = patients.filter(groups__id=group_id)
    # Every word must appear in the external ID or the names, in any order, accents ignored.
    for term in search_fold(search).split()[:5]:
        patients = patients.filter(search_text__contains=term)
    ordering = normalize_ordering(ordering)
    descending = ordering.startswith("-")
    fields = ORDERING_FIELDS[ordering.lstrip("-")]
    return patients.order_by(*(f"-{f}" if descending else f for f in fields)).prefetch_related(
        "groups"
    )


def visible_external_ids_for(*, user, external_ids: list[str]) -> set[str]:
    """Which of these DICOM PatientIDs belong to patients the user can see (for DICOMweb)."""
    return set(
        patient_visible_queryset(user=user)
        .filter(external_id__in=external_ids)
        .values_list("external_id", flat=True)
    )


def assignable_groups_for(*, user) -> QuerySet[Group]:
    """Groups a user may put a patient in: their own, or any with "view all patients"."""
    if user.has_perm(rights.VIEW_ALL_PATIENTS):
        return Group.objects.order_by("name")
    return Group.objects.filter(user=user).order_by("name")


def patient_count_for(*, user) -> int:
    return patient_visible_queryset(user=user).count()


def patient_latest_for(*, user, limit: int = 5) -> QuerySet[Patient]:
    return patient_visible_queryset(user=user).order_by("-created_at", "-id")[:limit]


def patient_exams_for(patients: list[Patient]) -> dict[int, dict]:
    """For the patients of one list page: how many exams the study index holds for each (not
    the studies served to nobody, uid_shared), and the date and modalities of the latest. Two
    queries, whatever the number of studies (read through the index's reverse relation)."""
    visible = Q(indexed_studies__uid_shared=False)
    totals = (
        Patient.objects.filter(pk__in=[p.pk for p in patients])
        .annotate(
            exam_count=Count("indexed_studies", filter=visible),
            last_date=Max("indexed_studies__study_date", filter=visible),
        )
        .values_list("pk", "exam_count", "last_date")
    )
    summary: dict[int, dict] = {
        pk: {"count": count, "last_date": last or "", "modalities": []}
        for pk, count, last in totals
    }
    latest = Q(pk__in=[])
    for pk, exams in summary.items():
        if exams["count"]:
            latest |= Q(pk=pk, indexed_studies__study_date=exams["last_date"])
    rows = Patient.objects.filter(latest, visible).values_list("pk", "indexed_studies__modalities")
    for pk, modalities in rows:
        known = summary[pk]["modalities"]
        known.extend(m for m in modalities.split() if m not in known)
    return summary


def group_choices_for(*, user) -> QuerySet[Group]:
    """The care groups a user may filter the patient list by: those of the patients they see."""
    if sees_every_patient(user=user):
        return Group.objects.filter(patients__isnull=False).distinct().order_by("name")
    return Group.objects.filter(user=user).order_by("name")
