"""Who may manage which account: holders of "manage users and groups", the one way it is asked.

Each function returns the object or raises (``Forbidden`` without the right, ``NotFound`` for a
missing object). Pages and the API call these; services receive authorized objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Model
from django.utils.translation import gettext_lazy

from accounts import rights
from accounts.models import User
from web.errors import Forbidden, NotFound


def require_account_manager(*, user) -> None:
    if not user.has_perm(rights.MANAGE_USERS):
        raise Forbidden()


def _managed(model: type[Model], missing: Any) -> Callable[..., Any]:
    def for_management(*, actor, pk: int) -> Any:
        require_account_manager(user=actor)
        found = model._default_manager.filter(pk=pk).first()
        if found is None:
            raise NotFound(missing)
        return found

    return for_management


user_for_management: Callable[..., User] = _managed(User, gettext_lazy("No such user."))
group_for_management: Callable[..., Group] = _managed(Group, gettext_lazy("No such group."))
