from django.conf import settings
from django.db import models
from django.utils import timezone


class Token(models.Model):
    """A personal access token or agent connection. Only its SHA-256 digest is stored."""

    class Kind(models.TextChoices):
        PERSONAL = "pat", "Personal access token"
        AGENT = "agt", "Agent connection"

    class Client(models.TextChoices):
        CLAUDE_CODE = "claude-code", "Claude Code"
        CURSOR = "cursor", "Cursor"
        VSCODE = "vscode", "VS Code"
        OTHER = "other", "Other MCP client"

    kind = models.CharField(max_length=3, choices=Kind.choices, default=Kind.PERSONAL)
    # For agent connections: which MCP client it was made for.
    client = models.CharField(max_length=20, choices=Client.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens"
    )
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    # Unique through Meta.constraints, not unique=True, which on PostgreSQL would add a second,
    # LIKE-only index that no query uses and every insert pays for.
    digest = models.CharField(max_length=64, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    scopes = models.JSONField(default=list)
    # False means the token reaches only `projects`; if those are deleted it reaches nothing.
    all_projects = models.BooleanField(default=True)
    projects = models.ManyToManyField("projects.Project", blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    last_used_user_agent = models.CharField(max_length=255, blank=True)
    # When a use after revocation or expiry was last logged: the log gets one a minute at most.
    last_rejected_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="token_digest_unique"),
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="token_name_unique_among_active",
            ),
        ]
        indexes = [models.Index(fields=["owner", "kind", "-created_at"], name="token_owner_list")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
