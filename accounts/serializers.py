from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.rights import ALL_RIGHTS, VIEW_GROUP_PATIENTS


class LoginInput(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class GroupRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    groups = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    def get_groups(self, user: User) -> list[dict[str, Any]]:
        return [{"id": g.id, "name": g.name} for g in user.groups.order_by("name")]

    def get_permissions(self, user: User) -> list[str]:
        """The portal rights the user holds (through groups, or all for a superuser)."""
        return [right for right in ALL_RIGHTS if user.has_perm(right)]


class TokenOutput(serializers.Serializer):
    access = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Lifetime of the access token, in seconds.")
    user = MeOutput()


class UserOutput(serializers.ModelSerializer):
    groups: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = User
        fields = ["id", "email", "name", "is_active", "groups"]


class UserCreateInput(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True)
    groups = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Group.objects.all(), required=False, default=list
    )
    password = serializers.CharField(
        required=False, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )


class PasswordSetInput(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )


class UserUpdateInput(serializers.Serializer):
    email = serializers.EmailField(required=False)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    groups = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Group.objects.all(), required=False
    )


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$",
        "example": VIEW_GROUP_PATIENTS,
        "description": "A permission as app_label.codename (the portal's rights: accounts.*).",
    }
)
class PermissionNameField(serializers.Field):
    """A permission as ``app_label.codename``."""

    default_error_messages = {"unknown": "Unknown permission {value!r}."}

    def to_representation(self, permission: Permission) -> str:
        return f"{permission.content_type.app_label}.{permission.codename}"

    def to_internal_value(self, data: Any) -> Permission:
        if not isinstance(data, str) or "." not in data:
            self.fail("unknown", value=data)
        app_label, codename = data.split(".", 1)
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            self.fail("unknown", value=data)
        return permission


class GroupOutput(serializers.ModelSerializer):
    permissions = serializers.ListField(child=PermissionNameField(), read_only=True)

    class Meta:
        model = Group
        fields = ["id", "name", "permissions"]

    def to_representation(self, group: Group) -> dict[str, Any]:
        # The prefetch in group_list serves this without a query per group.
        return {
            "id": group.id,
            "name": group.name,
            "permissions": sorted(
                f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
            ),
        }


class GroupCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    permissions = serializers.ListField(child=PermissionNameField(), required=False, default=list)


class GroupUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    permissions = serializers.ListField(child=PermissionNameField(), required=False)
