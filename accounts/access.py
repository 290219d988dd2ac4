"""Who may manage which account: holders of "manage users and groups", the one way it is asked.

Each function returns the object or raises (``Forbidden`` without the right, ``NotFound`` for a
missing object). Pages and the API call these; services receive authorized objects.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils.translation import gettext as _

from accounts import rights
from accounts.models import User
from web.errors import Forbidden, NotFound


def require_account_manager(*, user) -> None:
    if not user.has_perm(rights.MANAGE_USERS):
        raise Forbidden()


def user_for_management(*, actor, pk: int) -> User:
    require_account_manager(user=actor)
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise NotFound(_("No such user."))
    return user


def group_for_management(*, actor, pk: int) -> Group:
    require_account_manager(user=actor)
    group = Group.objects.filter(pk=pk).first()
    if group is None:
        raise NotFound(_("No such group."))
    return group
