from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.rights import RIGHT_DEFINITIONS


def normalize_email(email: str) -> str:
    # Emails are compared case-insensitively everywhere; storing them lower-cased keeps the
    # unique constraint, lookups and the login throttle key in agreement.
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users must have an email address")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A portal user: logs in by email; rights come from groups (see accounts.rights)."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive users cannot log in. Prefer this to deleting a user."),
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Can log in to the Django admin site.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Right(models.Model):
    """Holder of the portal's rights; has no table.

    Django permissions need a content type. The portal's rights are not about one model (viewing
    images or the audit log is not a row of a table), so they all hang off this unmanaged model and
    read as ``accounts.<codename>``.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = RIGHT_DEFINITIONS  # type: ignore[assignment]  # lazy labels, as Django allows
        verbose_name = _("right")
        verbose_name_plural = _("rights")

    def __str__(self) -> str:
        return "right"
