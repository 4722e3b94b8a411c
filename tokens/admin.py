from django.contrib import admin

from .models import Token


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    """Tokens are minted where the secret can be shown once; here they are read and revoked."""

    list_display = [
        "name",
        "prefix",
        "kind",
        "client",
        "owner",
        "organization",
        "project",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["kind", "organization"]
    search_fields = ["name", "prefix", "owner__email", "project__name"]
    exclude = ["digest"]
    readonly_fields = [
        "kind",
        "client",
        "owner",
        "organization",
        "project",
        "created_by",
        "name",
        "description",
        "prefix",
        "scopes",
        "all_projects",
        "projects",
        "allowed_ips",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "last_used_user_agent",
        "last_rejected_at",
        "revoked_at",
        "revoked_by",
        "rotated_at",
        "rotated_by",
        "replaced_by",
        "origin",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        from .services import token_revoke

        count = sum(token_revoke(token=token, by=request.user) for token in queryset)
        self.message_user(request, f"Revoked {count} token(s).")
