"""Reads on users and groups."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Count, Q, QuerySet

from accounts.models import User
from accounts.rights import RIGHT_DEFINITIONS


def user_list(*, search: str = "") -> QuerySet[User]:
    users = User.objects.prefetch_related("groups").order_by("email")
    search = search.strip()
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    return users


def group_list(*, search: str = "") -> QuerySet[Group]:
    groups = (
        Group.objects.annotate(member_count=Count("user", distinct=True))
        .prefetch_related("permissions__content_type")
        .order_by("name")
    )
    search = search.strip()
    if search:
        groups = groups.filter(name__icontains=search)
    return groups


def portal_rights() -> QuerySet[Permission]:
    """The portal's rights, as Permission rows, in the order of accounts.rights."""
    return Permission.objects.filter(
        content_type__app_label="accounts",
        content_type__model="right",
        codename__in=[codename for codename, _label in RIGHT_DEFINITIONS],
    ).select_related("content_type")
