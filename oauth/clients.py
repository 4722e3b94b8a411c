"""Who is connecting: client metadata checked once for both ways a client makes itself known,
dynamic registration (RFC 7591) and a Client ID Metadata Document (the client id is the URL of
its metadata; draft-ietf-oauth-client-id-metadata-document), which is fetched, checked and cached.
"""

import ipaddress
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import get_random_string

from core.fetch import FetchRefused, fetch_json
from core.text import is_one_plain_line

from .models import Client

logger = logging.getLogger(__name__)

MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
# A metadata document is fetched again once this old; a failed refetch keeps the cached one.
DOCUMENT_FRESH_FOR = timedelta(hours=1)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class ClientMetadataError(Exception):
    """Metadata that cannot make a client: `error` is RFC 7591 §3.2.2's code."""

    def __init__(self, description: str, error: str = "invalid_client_metadata"):
        super().__init__(description)
        self.description = description
        self.error = error


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _plain_ascii(value: object, limit: int) -> bool:
    """Printable ASCII without spaces, within `limit`: what an id or a URI may be here (a NUL,
    say, is refused before any database sees it)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= limit
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


def redirect_uri_allowed(uri: str) -> bool:
    """https anywhere, or http to a loopback address on any port (RFC 8252 §7.3); never a
    fragment (RFC 6749 §3.1.2) or credentials in the URL."""
    if not _plain_ascii(uri, MAX_URI_LENGTH):
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        return False
    if parts.fragment or "#" in uri or parts.username or parts.password or not host:
        return False
    if any(c.isspace() for c in uri):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))


def redirect_uri_matches(registered: list[str], given: str) -> bool:
    """`given` is one of the client's redirect URIs: exactly, except that a loopback IP's port
    may be any (RFC 8252 §7.3: a native client picks a free port when it starts)."""
    if given in registered:
        return True
    if not redirect_uri_allowed(given):
        return False
    asked = urlsplit(given)
    if asked.scheme != "http" or not _loopback(asked.hostname or ""):
        return False
    for uri in registered:
        known = urlsplit(uri)
        if (known.scheme, known.hostname, known.path, known.query) == (
            asked.scheme,
            asked.hostname,
            asked.path,
            asked.query,
        ):
            return True
    return False


def clean_metadata(data: Any, *, default_name: str = "") -> dict[str, Any]:
    """The client metadata Tessera keeps, from a registration request or a metadata document:
    a name, redirect URIs, a home page. Grant and response types, when given, must be ours; a
    public client is all Tessera registers (token_endpoint_auth_method "none")."""
    if not isinstance(data, dict):
        raise ClientMetadataError("The client metadata must be a JSON object.")
    uris = data.get("redirect_uris")
    if not isinstance(uris, list) or not uris or len(uris) > MAX_REDIRECT_URIS:
        raise ClientMetadataError(
            f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs.", "invalid_redirect_uri"
        )
    for uri in uris:
        if not redirect_uri_allowed(uri):
            raise ClientMetadataError(
                f"Redirect URI {str(uri)[:200]!r} is not allowed: use https, or http on a "
                "loopback address (127.0.0.1, [::1] or localhost) with any port.",
                "invalid_redirect_uri",
            )
    for field, allowed in (
        ("grant_types", {"authorization_code", "refresh_token"}),
        ("response_types", {"code"}),
    ):
        given = data.get(field)
        if given is not None and (
            not isinstance(given, list) or not all(isinstance(g, str) for g in given)
        ):
            raise ClientMetadataError(f"{field} must be a list of strings.")
        if given is not None and not set(given) <= allowed:
            raise ClientMetadataError(f"{field} may only be {', '.join(sorted(allowed))}.")
    name = data.get("client_name", default_name or urlsplit(uris[0]).hostname or "")
    if not isinstance(name, str) or not name.strip() or not is_one_plain_line(name):
        raise ClientMetadataError("client_name must be one line of plain text.")
    client_uri = data.get("client_uri", "")
    if client_uri and (
        not isinstance(client_uri, str)
        or len(client_uri) > 255
        or not client_uri.startswith("https://")
    ):
        raise ClientMetadataError("client_uri must be an https URL.")
    return {"name": name.strip()[:100], "redirect_uris": list(uris), "client_uri": client_uri}


def client_register(*, data: Any) -> Client:
    """Register a public client from an RFC 7591 request body."""
    cleaned = clean_metadata(data)
    return Client.objects.create(
        client_id="tsr-client-" + get_random_string(24),
        registration=Client.Registration.DYNAMIC,
        **cleaned,
    )


def is_metadata_document_url(client_id: str) -> bool:
    """A client id that names a metadata document: an https URL with a path (http on loopback
    too where settings allow, for a local client or the tests)."""
    if not client_id.startswith(("https://", "http://")) or len(client_id) > 255:
        return False
    try:
        parts = urlsplit(client_id)
    except ValueError:
        return False
    loopback_ok = settings.OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK
    if parts.scheme == "http" and not (loopback_ok and _loopback(parts.hostname or "")):
        return False
    return bool(parts.hostname) and parts.path not in ("", "/") and not parts.fragment


def _fetch_document(client_id: str) -> dict[str, Any]:
    try:
        document = fetch_json(client_id, allow_loopback=settings.OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK)
    except FetchRefused as exc:
        raise ClientMetadataError(exc.description, "invalid_client") from exc
    if document.get("client_id") != client_id:
        raise ClientMetadataError(
            "The client metadata document's client_id must be its own URL.", "invalid_client"
        )
    host = urlsplit(client_id).hostname or ""
    return clean_metadata(document, default_name=host)


def client_get(*, client_id: str, fetch: bool = True) -> Client | None:
    """The client with this id: registered, or its metadata document (fetched when unknown or
    stale, unless `fetch` is False: the token and revocation endpoints, which no one signed in
    calls, never make Tessera fetch). None when there is no such client; ClientMetadataError
    when its document cannot be used."""
    if not _plain_ascii(client_id, 255):
        return None
    client = Client.objects.filter(client_id=client_id).first()
    if not fetch or not is_metadata_document_url(client_id):
        return client
    now = timezone.now()
    if client is not None and client.fetched_at and client.fetched_at > now - DOCUMENT_FRESH_FOR:
        return client
    try:
        cleaned = _fetch_document(client_id)
    except ClientMetadataError:
        if client is None:
            raise
        logger.warning("Refetching %s failed; keeping the cached metadata", client_id)
        return client
    client, _ = Client.objects.update_or_create(
        client_id=client_id,
        defaults={
            **cleaned,
            "registration": Client.Registration.METADATA_DOCUMENT,
            "fetched_at": now,
        },
    )
    return client
