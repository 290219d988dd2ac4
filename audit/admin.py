from django.contrib import admin

from audit.models import AuditEvent
from audit.services import audit_record, changes_between


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is never edited, from the admin or anywhere else."""

    list_display = ["at", "actor_email", "action", "object_repr", "patient_external_id"]
    list_filter = ["action"]
    search_fields = ["actor_email", "object_repr", "patient_external_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAdminMixin:
    """Writes the same audit events as the services for changes made in the Django admin.

    Admin views run in a transaction, so a failed audit write rolls the change back too.
    Subclasses set ``audit_actions = (create, update, delete)`` and may override
    ``audit_snapshot`` and ``audit_patient``.
    """

    audit_actions: tuple = ()

    def audit_snapshot(self, obj) -> dict:
        return {
            field.name: field.value_from_object(obj)
            for field in obj._meta.concrete_fields
            if field.name not in {"password", "last_login"}
        }

    def audit_patient(self, obj):
        return None

    def save_model(self, request, obj, form, change):
        obj._audit_before = self.audit_snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        changes = changes_between(getattr(obj, "_audit_before", {}), self.audit_snapshot(obj))
        if changes or not change:
            audit_record(
                actor=request.user,
                action=self.audit_actions[1] if change else self.audit_actions[0],
                obj=obj,
                patient=self.audit_patient(obj),
                changes=changes,
            )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=self.audit_actions[2],
            obj=obj,
            patient=self.audit_patient(obj),
            changes=changes_between(self.audit_snapshot(obj), {}),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
