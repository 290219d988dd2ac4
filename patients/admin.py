from django.contrib import admin

from audit.admin import AuditedAdminMixin
from audit.models import Action
from patients.models import Patient
from patients.services import patient_snapshot


@admin.register(Patient)
class PatientAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_actions = (Action.PATIENT_CREATE, Action.PATIENT_UPDATE, Action.PATIENT_DELETE)
    list_display = ["external_id", "family_name", "given_name", "birth_date", "sex", "updated_at"]
    list_filter = ["groups", "sex"]
    search_fields = ["external_id", "family_name", "given_name"]
    filter_horizontal = ["groups"]
    readonly_fields = ["created_at", "updated_at", "created_by", "updated_by"]
    list_select_related = True

    def audit_snapshot(self, obj):
        return patient_snapshot(obj) if obj.pk else {}

    def audit_patient(self, obj):
        return obj

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
