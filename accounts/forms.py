from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.rights import RIGHT_AREAS, RIGHT_DEFINITIONS
from accounts.selectors import portal_rights
from accounts.services import LoginLockedOut, lockout_message, user_authenticate


class EmailLoginForm(forms.Form):
    """Login by email; shaped like Django's AuthenticationForm so LoginView can use it."""

    email = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("Email or password is incorrect, or the account is disabled."),
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user_cache: User | None = None
        self.locked_out = False
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password is not None and self.request is not None:
            try:
                self.user_cache = user_authenticate(
                    request=self.request, email=email, password=password
                )
            except LoginLockedOut:
                self.locked_out = True
                raise forms.ValidationError(lockout_message(), code="locked_out") from None
            if self.user_cache is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_login"], code="invalid_login"
                )
        return cleaned

    def get_user(self) -> User | None:
        return self.user_cache


class GroupsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Group.objects.order_by("name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=_("Groups"),
            **kwargs,
        )


class UserEditForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive users cannot log in."),
    )
    groups = GroupsField()

    @classmethod
    def for_user(cls, user: User, data: Any = None) -> UserEditForm:
        initial = {
            "email": user.email,
            "name": user.name,
            "is_active": user.is_active,
            "groups": list(user.groups.all()),
        }
        return cls(data=data, initial=initial)


class UserCreateForm(UserEditForm):
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html,
    )

    field_order = ["email", "name", "password", "is_active", "groups"]


class PasswordResetForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("New password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    permissions = forms.ModelMultipleChoiceField(
        queryset=portal_rights(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Rights"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The rights by area, each with its translated label and what it lets one do.
        labels = dict(RIGHT_DEFINITIONS)
        field = self.fields["permissions"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        by_codename = {p.codename: p for p in (field.queryset or ())}
        field.choices = [
            (
                area,
                [
                    (by_codename[code].pk, f"{labels[code]} — {explanation}")
                    for code, explanation in rights
                    if code in by_codename
                ],
            )
            for area, rights in RIGHT_AREAS
        ]

    @classmethod
    def for_group(cls, group: Group, data: Any = None) -> GroupForm:
        return cls(
            data=data,
            initial={"name": group.name, "permissions": list(group.permissions.all())},
        )
