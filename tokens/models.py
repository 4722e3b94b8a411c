from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation


def _someone() -> "models.ForeignKey[User | None]":
    """Who did something to a token (made, revoked or rotated it): nobody for the shell, a
    policy or a report, and forgotten if their account is deleted, the token staying."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class Token(models.Model):
    """A personal access token, agent connection or project token. Only its SHA-256 digest is
    stored.

    Personal tokens and agent connections belong to a person (`owner`). A project token belongs
    to its `project` and has no owner: `created_by` only records who made it, so it survives its
    creator leaving the organization.

    A token stops working when it is revoked (`revoked_at`) or reaches `expires_at`. Rotation
    (tokens.services.token_rotate) sets `rotated_at`, links the successor in `replaced_by`, and
    brings `expires_at` forward to the end of the overlap (now, by default), so a rotated token
    ends the way an expired one does and is refused as rotated.
    """

    class Kind(models.TextChoices):
        PERSONAL = "pat", "Personal access token"
        AGENT = "agt", "Agent connection"
        PROJECT = "prj", "Project token"

    class Client(models.TextChoices):
        CLAUDE_CODE = "claude-code", "Claude Code"
        CURSOR = "cursor", "Cursor"
        VSCODE = "vscode", "VS Code"
        OTHER = "other", "Other MCP client"
        # Connected by the client itself through MCP authorization (the oauth app); its name is
        # the one the client declared.
        OAUTH = "oauth", "Connected with OAuth"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        ROTATED = "rotated", "Rotated"
        REVOKED = "revoked", "Revoked"

    kind = models.CharField(max_length=3, choices=Kind.choices, default=Kind.PERSONAL)
    # For agent connections: which MCP client it was made for.
    client = models.CharField(max_length=20, choices=Client.choices, blank=True)
    # None for project tokens (a check constraint keeps the two in step).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tokens",
    )
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="tokens"
    )
    # For project tokens: the project they belong to. Deleting the project revokes them (the
    # row stays for the audit log; tokens.signals), hence SET_NULL rather than CASCADE.
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tokens",
    )
    # Who minted it: the owner, an admin for a project token, or nobody for the shell.
    created_by = _someone()
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
    # Addresses and networks the token may be used from, normalised and comma-separated (see
    # tokens.ipallow); empty means anywhere. A string, so the auth query reads it as it is.
    allowed_ips = models.TextField(blank=True, default="", db_default="")
    # When the current secret stops working, ahead of the token itself: an OAuth connection's
    # access token lasts an hour and its client gets the next with a refresh token (the oauth
    # app), while the connection lives to `expires_at`. None: the secret lasts as the token does.
    secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The one path the token works on (RFC 8707 resource indicators): an OAuth connection's
    # tokens are for the MCP endpoint alone. Empty: every token path.
    audience = models.CharField(max_length=20, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    last_used_user_agent = models.CharField(max_length=255, blank=True)
    # When a use after revocation or expiry was last logged: the log gets one a minute at most.
    last_rejected_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = _someone()
    rotated_at = models.DateTimeField(null=True, blank=True)
    rotated_by = _someone()
    # Rotated with its own secret (POST /api/v1/tokens/self/rotate): the successor's secret went
    # to whoever held this one, so a report of this one's leak ends the successor too.
    rotated_itself = models.BooleanField(default=False)
    replaced_by = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    # The first token of its rotation line (None for a token that is no one's successor), so
    # the whole line, and its history, is one query away.
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="token_digest_unique"),
            # A rotated token keeps working through its overlap while its successor, of the same
            # name, is already there.
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=Q(revoked_at__isnull=True, rotated_at__isnull=True),
                name="token_name_unique_among_active",
            ),
            models.UniqueConstraint(
                fields=["project", "name"],
                condition=Q(revoked_at__isnull=True, rotated_at__isnull=True),
                name="token_project_name_unique_among_active",
            ),
            models.CheckConstraint(
                condition=Q(kind="prj", owner__isnull=True)
                | (~Q(kind="prj") & Q(owner__isnull=False)),
                name="token_owner_unless_project",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "kind", "-created_at"], name="token_owner_list"),
            # Expiry reminders and the policy's caps look tokens up by expiry.
            models.Index(
                fields=["expires_at"],
                condition=Q(revoked_at__isnull=True),
                name="token_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def get_absolute_url(self) -> str:
        """The token's page. The pages sit above this app (credentials), so the project says
        where a token lives: settings.ABSOLUTE_URL_OVERRIDES puts credentials.surfaces.token_page
        here when the model loads."""
        raise ImproperlyConfigured("settings.ABSOLUTE_URL_OVERRIDES names the token's page")

    def state(self, now: datetime | None = None) -> str:
        """Token.State: active, or how it ended (revoked, rotated past its overlap, expired)."""
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return self.State.ROTATED if self.rotated_at is not None else self.State.EXPIRED
        return self.State.ACTIVE

    @property
    def is_personal(self) -> bool:
        return self.kind == self.Kind.PERSONAL

    @property
    def is_agent(self) -> bool:
        return self.kind == self.Kind.AGENT

    @property
    def is_project_token(self) -> bool:
        return self.kind == self.Kind.PROJECT

    @property
    def is_active(self) -> bool:
        return self.state() == self.State.ACTIVE

    @property
    def in_overlap(self) -> bool:
        """Rotated, and still working until its overlap ends (at `expires_at`)."""
        return self.rotated_at is not None and self.is_active

    @property
    def rotatable(self) -> bool:
        """Neither revoked nor already rotated: working, or expired (rotating renews it). Not an
        OAuth connection, whose client renews its own secret: its successor would be a token
        for a person to paste, outside the connection's audience."""
        return self.revoked_at is None and self.rotated_at is None and not self.is_oauth

    @property
    def is_oauth(self) -> bool:
        return self.client == self.Client.OAUTH

    @property
    def ended_at(self) -> datetime | None:
        """When it stopped working: revoked, end of its overlap, or expiry; None if active."""
        state = self.state()
        if state == self.State.REVOKED:
            return self.revoked_at
        if state == self.State.ACTIVE:
            return None
        return self.expires_at

    @property
    def ended_by(self):
        """Who ended it (a User), or None: expiry, an operator or a policy ends tokens too.
        List selectors join both users, so this costs no query there."""
        state = self.state()
        if state == self.State.REVOKED:
            return self.revoked_by
        if state == self.State.ROTATED:
            return self.rotated_by
        return None

    @property
    def allowed_ip_list(self) -> list[str]:
        return [entry for entry in self.allowed_ips.split(",") if entry]


class ExpiryReminder(models.Model):
    """A reminder sent about a token's expiry, so that each kind goes out once per token."""

    class Kind(models.TextChoices):
        WEEK = "7d", "Expires within 7 days"
        DAY = "1d", "Expires within a day"
        EXPIRED = "expired", "Expired"

    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "kind"], name="expiry_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.token}"


def working(now: datetime, through: str = "") -> Q:
    """Tokens that work right now: not revoked, not expired, not past a rotation's overlap.
    `through` reaches them from another model, such as "tokens__" from a project."""
    return Q(**{f"{through}revoked_at__isnull": True}) & (
        Q(**{f"{through}expires_at__isnull": True}) | Q(**{f"{through}expires_at__gt": now})
    )
