from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event",
        "organization",
        "subject",
        "actor",
        "token_prefix",
        "action",
        "status",
    ]
    list_filter = ["event", "organization"]
    search_fields = ["token_prefix", "subject__email", "action"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
