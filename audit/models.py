from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """Something that happened to or with a token. Never holds a secret: only the display prefix."""

    class Event(models.TextChoices):
        TOKEN_CREATED = "token.created", "Token created"
        AGENT_CONNECTED = "agent.connected", "Agent connected"
        AGENT_REFRESHED = "agent.refreshed", "Agent connection refreshed"
        TOKEN_REVOKED = "token.revoked", "Token revoked"
        TOKEN_ROTATED = "token.rotated", "Token rotated"
        TOKEN_CAPPED = "token.expiry_capped", "Expiry shortened by policy"
        TOKEN_REJECTED = "token.rejected", "Used after revocation or expiry"
        API_WRITE = "api.write", "API write"
        MCP_WRITE = "mcp.write", "MCP tool write"
        SIGNED_IN = "account.signed_in", "Signed in"
        PASSWORD_CHANGED = "account.password", "Password changed"
        PASSWORD_RESET = "account.reset", "Password reset by email"
        EMAIL_CHANGED = "account.email", "Email address changed"
        EMAIL_ADDED = "account.email_added", "Email address added"
        EMAIL_REMOVED = "account.email_gone", "Email address removed"
        FACTOR_ADDED = "account.mfa_added", "Second factor added"
        FACTOR_REMOVED = "account.mfa_removed", "Second factor removed"
        RECOVERY_CODES = "account.codes", "Recovery codes regenerated"
        REAUTH_FAILED = "account.reauth_fail", "Wrong password while signed in"
        THROTTLED = "account.throttled", "Too many attempts"
        POLICY_CHANGED = "org.policy", "Organization policy changed"

    created_at = models.DateTimeField(default=timezone.now)
    event = models.CharField(max_length=20, choices=Event.choices)
    organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Whose token it is (nobody for a project token), and who acted (the owner, an admin, or
    # nobody for the shell, a leak report or a policy).
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The token's id, not a foreign key: the log sits below the tokens it records (and outlives
    # them), so it keeps the id and the prefix of a token that is gone.
    token_id = models.BigIntegerField(null=True, blank=True)
    token_prefix = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=200, blank=True, help_text="method and path, or tool")
    user_agent = models.CharField(max_length=255, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_time"),
            models.Index(fields=["token_id", "-created_at"], name="audit_token_time"),
            models.Index(fields=["created_at"], name="audit_time"),
            models.Index(fields=["subject", "-created_at"], name="audit_subject_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} {self.token_prefix} at {self.created_at:%Y-%m-%d %H:%M}"
