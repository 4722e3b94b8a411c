"""What the authorization server keeps: the clients that connect, the codes they exchange and the
refresh tokens that keep a connection going. The connection itself is a Token (kind agent, client
"oauth"): listed, overseen and revoked like any agent connection. Codes and refresh tokens are
stored as SHA-256 digests, like tokens."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Client(models.Model):
    """An MCP client: registered by itself (RFC 7591) or known by its metadata document's URL
    (a Client ID Metadata Document, fetched and cached). Public clients only: none has a
    secret, so PKCE is what binds a code to whoever asked for it."""

    class Registration(models.TextChoices):
        DYNAMIC = "dcr", "Dynamic registration"
        METADATA_DOCUMENT = "cimd", "Client ID metadata document"

    client_id = models.CharField(max_length=255, unique=True)
    registration = models.CharField(max_length=4, choices=Registration.choices)
    # What the client calls itself: shown as unverified, never trusted.
    name = models.CharField(max_length=100)
    redirect_uris = models.JSONField(default=list)
    client_uri = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a metadata document was last fetched; it is fetched again once stale.
    fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class AuthorizationCode(models.Model):
    """What a person approved, waiting for the client to exchange it (once, within minutes).
    The approval's choices ride along, so the connection is minted only at the exchange."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.TextField()
    code_challenge = models.CharField(max_length=128)
    resource = models.CharField(max_length=255)
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    # None: every project; else the ids chosen.
    project_ids = models.JSONField(null=True, blank=True)
    connection_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The connection the exchange made: a second exchange of the code revokes it (RFC 6749 §4.1.2).
    connection = models.ForeignKey(
        "tokens.Token", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Code for {self.client_id}, {'used' if self.used_at else 'unused'}"


class RefreshToken(models.Model):
    """One refresh token of a connection. Single use: a refresh marks it used and issues the
    next; a used one presented again means it leaked, and the whole connection ends."""

    digest = models.CharField(max_length=64, unique=True)
    connection = models.ForeignKey("tokens.Token", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = "used" if self.used_at else "unused"
        return f"Refresh token of connection {self.connection_id}, {state}"
