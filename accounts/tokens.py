"""Refresh tokens: rotated within the login's absolute lifetime, revoked when access changes.

- A refresh rotates the token (the old one is blacklisted) but keeps the ``exp`` of the login
  that started the chain: ``JWT_REFRESH_DAYS`` counts from the login, so a stolen refresh cookie
  used every day still dies at that date.
- Setting or resetting a password, deactivating a user, removing them from a group (or deleting
  the group) blacklists every refresh token they hold, whichever door made the change: the
  pages, the API, the Django admin or ``manage.py changepassword``. That is why it hangs on model
  signals rather than on the services alone. Access tokens also carry a hash of the password
  (simplejwt's CHECK_REVOKE_TOKEN), so a password change ends them too; deactivation ends them
  at their next use, since every request loads the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from accounts.models import User


class RefreshInvalid(Exception):
    """The refresh token is expired, revoked, already used, or its user may not log in."""


@dataclass
class Rotated:
    user: User
    access: str
    refresh: str
    expires_at: int  # epoch seconds: the login's absolute expiry


def refresh_rotate(raw: str) -> Rotated:
    """A new access token and a new refresh token from ``raw``, which is blacklisted.

    The new refresh token expires when the login's first one did; the access token never
    outlives it.
    """
    try:
        old = RefreshToken(raw)  # type: ignore[arg-type]  # checks signature, expiry, blacklist
    except TokenError as exc:
        raise RefreshInvalid(str(exc)) from exc
    user_id = old.payload.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        raise RefreshInvalid("no user in this token")
    with transaction.atomic():
        # Locked: a password reset committing meanwhile waits, and then revokes what is minted.
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise RefreshInvalid("no active account for this token")
        # A token minted before the current password (a reset raced a refresh) is refused.
        if old.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise RefreshInvalid("the password changed since this token was issued")
        # Checked again under the lock (the token's row too, which a logout's blacklisting
        # waits for): two refreshes of one token both passed the first check.
        jti = old[api_settings.JTI_CLAIM]
        list(OutstandingToken.objects.select_for_update().filter(jti=jti).order_by())
        if BlacklistedToken.objects.filter(token__jti=jti).exists():
            raise RefreshInvalid("this refresh token was already used")
        old.blacklist()
        return _rotated(user, expires_at=int(old["exp"]))


def _rotated(user: User, *, expires_at: int) -> Rotated:
    new = RefreshToken.for_user(user)  # outstanding, with the current password's hash
    new["exp"] = expires_at
    OutstandingToken.objects.filter(jti=new[api_settings.JTI_CLAIM]).update(
        token=str(new), expires_at=datetime_from_epoch(expires_at)
    )
    access = new.access_token
    access["exp"] = min(int(access["exp"]), expires_at)
    return Rotated(user=user, access=str(access), refresh=str(new), expires_at=expires_at)


def refresh_tokens_revoke(*, user_ids: list[Any]) -> int:
    """Blacklist every refresh token of these users that is not expired yet."""
    tokens = OutstandingToken.objects.filter(
        user_id__in=user_ids, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True
    )
    return len(revoked)


# --- Who triggers a revocation ----------------------------------------------------------------


def _remember_access_before_save(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (
        update_fields is not None and not {"password", "is_active"} & set(update_fields)
    ):
        return  # a new user, or a save of other fields (last_login at each login)
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    instance._revoke_refresh_tokens = bool(  # type: ignore[attr-defined]
        before
        and (
            before["password"] != instance.password
            or (before["is_active"] and not instance.is_active)
        )
    )


def _revoke_after_save(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_revoke_refresh_tokens", False):
        refresh_tokens_revoke(user_ids=[instance.pk])
        instance._revoke_refresh_tokens = False  # type: ignore[attr-defined]


def _revoke_on_group_removal(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    # Forward: user.groups.remove()/set()/clear(); reverse: group.user_set.remove()/clear().
    if action == "post_remove":
        refresh_tokens_revoke(user_ids=list(pk_set or ()) if reverse else [instance.pk])
    elif action == "pre_clear":
        users = list(instance.user_set.values_list("pk", flat=True)) if reverse else [instance.pk]
        refresh_tokens_revoke(user_ids=users)


def _revoke_on_group_delete(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    refresh_tokens_revoke(user_ids=list(instance.user_set.values_list("pk", flat=True)))


def connect_token_revocation() -> None:
    pre_save.connect(_remember_access_before_save, sender=User, dispatch_uid="tokens-pre-save")
    post_save.connect(_revoke_after_save, sender=User, dispatch_uid="tokens-post-save")
    m2m_changed.connect(
        _revoke_on_group_removal, sender=User.groups.through, dispatch_uid="tokens-groups"
    )
    pre_delete.connect(_revoke_on_group_delete, sender=Group, dispatch_uid="tokens-group-delete")
