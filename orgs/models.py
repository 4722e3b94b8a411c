from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Who oversees an organization: its members' agent connections, its projects' tokens, its log.
OVERSEERS = (Role.OWNER, Role.ADMIN)


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Members without a second factor cannot reach this organization's tokens, agents or API.
    require_two_factor = models.BooleanField(default=False)
    # The token policy (owners set it; tokens.services.policy_update). None: no maximum.
    token_max_lifetime_days = models.PositiveIntegerField(null=True, blank=True)
    allow_no_expiry = models.BooleanField(default=True)
    # /mcp takes agent connections only: personal and project tokens are refused there.
    require_agent_connections = models.BooleanField(default=False)
    # MCP clients may connect themselves through OAuth (the oauth app), each connection an agent
    # connection; if `oauth_clients` lists any, only those: client ids (a metadata document's
    # URL) or redirect hosts, one a line.
    allow_oauth_agents = models.BooleanField(default=True)
    oauth_clients = models.TextField(blank=True, default="")
    # notify_expiring revokes tokens unused for this many days. None: never.
    revoke_unused_after_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organization; tokens carry it, read fresh on every request."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"
