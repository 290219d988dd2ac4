"""The image side in Django admin: share links, read-only, with a "revoke" action (links are made
from the portal's pages or API, which show the token once)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orthanc_bridge.shares.access import share_for_revoking
from orthanc_bridge.shares.models import ShareLink
from orthanc_bridge.shares.services import share_revoke
from web.errors import PortalError


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = [
        "id", "study_repr", "patient", "created_by", "created_at", "expires_at", "status",
        "allow_download", "opened_count",
    ]  # fmt: skip
    list_filter = ["allow_download", "created_at", "expires_at"]
    list_select_related = ["patient", "created_by"]
    search_fields = ["study_uid", "patient__external_id", "patient__family_name", "note"]
    readonly_fields = [f.name for f in ShareLink._meta.fields if f.name != "token_hash"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected links"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        revoked = 0
        for share in queryset.filter(revoked_at__isnull=True):
            try:
                share_revoke(
                    actor=request.user, share=share_for_revoking(user=request.user, pk=share.pk)
                )
            except PortalError as refusal:
                self.message_user(request, f"#{share.pk}: {refusal.detail}", messages.ERROR)
                continue
            revoked += 1
        self.message_user(
            request, ngettext("%d link revoked.", "%d links revoked.", revoked) % revoked
        )
