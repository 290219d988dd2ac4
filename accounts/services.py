"""Writes on users and groups, and the login helpers the throttle relies on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import User, normalize_email
from audit.models import Action
from audit.services import audit_record, changes_between

# Who does something: the request's user (views require a login; an anonymous one is refused by
# the rights checks), or None for the system (seeding, commands).
Actor = User | AnonymousUser | None


class LoginLockedOut(Exception):
    """Too many failed logins for this email from this address."""


def lockout_message() -> str:
    """The one sentence that tells a locked-out user how long to wait (page and API)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed login attempts. For your security, wait %(minutes)s minutes before "
        "trying again."
    ) % {"minutes": minutes}


# --- Login ------------------------------------------------------------------------------------


def login_throttle_key(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """django-axes username callable: the normalized email, from credentials or the form."""
    # Django's login-failed signal passes {"username": ...}; axes' own check passes {"email": ...}.
    for key in ("username", "email"):
        if credentials and credentials.get(key):
            return normalize_email(credentials[key])
    data = getattr(request, "data", None) or request.POST
    return normalize_email(data.get("email") or data.get("username") or "")


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind TRUSTED_PROXY_COUNT proxies, taken from X-Forwarded-For."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User | None:
    """Check credentials through django-axes; raise LoginLockedOut when throttled.

    Inactive users and wrong passwords both return None: the caller shows one message, so the
    answer does not tell which accounts exist.
    """
    user = authenticate(request, username=normalize_email(email), password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginLockedOut
    return user  # type: ignore[return-value]


# --- Users ------------------------------------------------------------------------------------


def user_snapshot(user: User, groups: Iterable[Group] | None = None) -> dict[str, Any]:
    """What the audit trail records of a user (never the password hash)."""
    return {
        "email": user.email,
        "name": user.name,
        "is_active": user.is_active,
        "groups": sorted(g.name for g in (groups if groups is not None else user.groups.all())),
    }


def group_snapshot(group: Group, permissions: Iterable[Permission] | None = None) -> dict[str, Any]:
    perms = permissions if permissions is not None else group.permissions.all()
    return {"name": group.name, "permissions": sorted(p.codename for p in perms)}


def _audit_change(
    actor: Actor, action: Action, obj: Any, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """The audit event of a create (``before`` empty), change or delete (``after`` empty); an
    update that changes nothing records nothing."""
    changes = changes_between(before, after)
    if changes or not before or not after:
        audit_record(actor=actor, action=action, obj=obj, changes=changes)


def _check_email_free(email: str, *, exclude_pk: int | None = None) -> None:
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"email": _("A user with this email already exists.")})


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    email: str,
    name: str = "",
    password: str | None = None,
    is_active: bool = True,
    groups: Iterable[Group] = (),
) -> User:
    email = normalize_email(email)
    _check_email_free(email)
    user = User(email=email, name=name.strip(), is_active=is_active)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        # No password yet: the account exists but cannot log in until one is set.
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    groups = list(groups)
    user.groups.set(groups)
    _audit_change(actor, Action.USER_CREATE, user, {}, user_snapshot(user, groups))
    return user


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str) -> User:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action=Action.USER_PASSWORD, obj=user)
    return user


@transaction.atomic
def user_update(
    *,
    actor: Actor,
    user: User,
    email: str | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    groups: Iterable[Group] | None = None,
) -> User:
    before = user_snapshot(user)
    if email is not None:
        email = normalize_email(email)
        _check_email_free(email, exclude_pk=user.pk)
        user.email = email
    if name is not None:
        user.name = name.strip()
    if is_active is not None:
        if actor is not None and actor.pk == user.pk and not is_active:
            raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
        user.is_active = is_active
    user.full_clean(exclude=["password"])
    user.save()
    if groups is not None:
        groups = list(groups)
        user.groups.set(groups)
    _audit_change(actor, Action.USER_UPDATE, user, before, user_snapshot(user, groups))
    return user


@transaction.atomic
def user_delete(*, actor: Actor, user: User) -> None:
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("You cannot delete your own account."))
    _audit_change(actor, Action.USER_DELETE, user, user_snapshot(user), {})
    user.delete()


# --- Groups -----------------------------------------------------------------------------------


def _check_group_name_free(name: str, *, exclude_pk: int | None = None) -> None:
    taken = Group.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": _("A group with this name already exists.")})


@transaction.atomic
def group_create(*, actor: Actor, name: str, permissions: Iterable[Permission] = ()) -> Group:
    name = name.strip()
    _check_group_name_free(name)
    group = Group(name=name)
    group.full_clean()
    group.save()
    permissions = list(permissions)
    group.permissions.set(permissions)
    _audit_change(actor, Action.GROUP_CREATE, group, {}, group_snapshot(group, permissions))
    return group


@transaction.atomic
def group_update(
    *,
    actor: Actor,
    group: Group,
    name: str | None = None,
    permissions: Iterable[Permission] | None = None,
) -> Group:
    before = group_snapshot(group)
    if name is not None:
        name = name.strip()
        _check_group_name_free(name, exclude_pk=group.pk)
        group.name = name
    group.full_clean()
    group.save()
    if permissions is not None:
        permissions = list(permissions)
        group.permissions.set(permissions)
    _audit_change(actor, Action.GROUP_UPDATE, group, before, group_snapshot(group, permissions))
    return group


def patients_only_in(group: Group) -> list[str]:
    """External IDs of the patients whose only care group this is: deleting the group leaves
    them visible only to holders of "view all patients"."""
    members = group.patients  # type: ignore[attr-defined]
    # Counted on a query of its own: counting through the join on this group would see one.
    return sorted(
        members.model.objects.filter(pk__in=members.values("pk"))
        .annotate(care_groups=Count("groups"))
        .filter(care_groups=1)
        .values_list("external_id", flat=True)
    )


@transaction.atomic
def group_delete(*, actor: Actor, group: Group) -> None:
    before = group_snapshot(group)
    left_alone = patients_only_in(group)
    if left_alone:  # named in the event: who must now be given another group
        before["patients left without a care group"] = left_alone
    _audit_change(actor, Action.GROUP_DELETE, group, before, {})
    group.delete()


# --- Demo account -------------------------------------------------------------------------


def demo_password_in_use() -> bool:
    """Whether the demo administrator still has the public demo password (refused in
    production by accounts.checks)."""
    admin = User.objects.filter(email__iexact=settings.DEMO_ADMIN_EMAIL).first()
    return bool(admin and admin.check_password(settings.DEMO_ADMIN_PASSWORD))
