"""Writes of the authorization server: an approved code becomes an agent connection, a refresh
renews its secret, and a code or refresh token seen twice ends it. The connection is minted and
revoked by tokens.services, like every other token."""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2.rfc6749 import errors

from accounts.models import User
from audit.services import Event, audit_record
from core.emails import current_request
from core.http import MCP_PATH, client_ip
from orgs.models import Organization
from projects.models import Project
from tokens import codec
from tokens.models import Token
from tokens.services import (
    TokenValidationError,
    token_create,
    token_revoke_oauth,
    token_secret_renew,
)

from .models import AuthorizationCode, Client, RefreshToken


def _context() -> dict[str, Any]:
    """Where the request came from, for the audit log and the owner's email."""
    request = current_request.get()
    if request is None:
        return {"ip": None, "user_agent": "", "request_id": ""}
    return {
        "ip": client_ip(request.META),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
        "request_id": getattr(request, "request_id", ""),
    }


def same_resource(given: str, expected: str) -> bool:
    """RFC 8707 resource indicators compared as URLs: scheme and host in any case, a trailing
    slash or not."""
    try:
        a, b = urlsplit(given), urlsplit(expected)
    except ValueError:
        return False
    return (a.scheme.lower(), a.netloc.lower(), a.path.rstrip("/"), a.query) == (
        b.scheme.lower(),
        b.netloc.lower(),
        b.path.rstrip("/"),
        b.query,
    ) and not a.fragment


def _listed(organization: Organization) -> list[str]:
    return [line.strip() for line in organization.oauth_clients.splitlines() if line.strip()]


def connection_refusal(
    *, organization: Organization, client: Client, redirect_uri: str | None = None
) -> str:
    """Why this organization's policy keeps this client, sending people back to `redirect_uri`,
    from connecting; "" when it may. A listed host is the host of the redirect URI in use, not
    of any the client registered (it could register a listed one beside its own)."""
    if not organization.allow_oauth_agents:
        return (
            f"{organization.name} does not let agents connect with OAuth. Connect one with a "
            "token under Settings → Agents instead, or ask an owner."
        )
    listed = _listed(organization)
    if not listed or client.client_id in listed:
        return ""
    if redirect_uri is not None and urlsplit(redirect_uri).hostname in listed:
        return ""
    return f"{organization.name} lets only the clients its owners listed connect with OAuth."


def free_name(*, owner: User, name: str) -> str:
    """`name`, or `name (2)`, … : the first no working token of the owner has."""
    taken = set(
        Token.objects.filter(
            owner=owner,
            revoked_at__isnull=True,
            rotated_at__isnull=True,
            name__startswith=name[:90],
        ).values_list("name", flat=True)
    )
    candidate, number = name[:100], 2
    while candidate in taken:
        candidate = f"{name[:90]} ({number})"
        number += 1
    return candidate


@sensitive_variables("access", "refresh")
def connection_create(
    *, authorization: AuthorizationCode, access: str, refresh: str, secret_expires_at: datetime
) -> Token:
    """Exchange an approved code: mint the agent connection with `access` as its secret, keep
    `refresh` (hashed) and mark the code used, in the token endpoint's transaction."""
    if refused := connection_refusal(
        organization=authorization.organization,
        client=authorization.client,
        redirect_uri=authorization.redirect_uri,
    ):
        raise errors.InvalidGrantError(description=refused)
    projects = (
        None
        if authorization.project_ids is None
        else list(
            Project.objects.filter(
                pk__in=authorization.project_ids, organization=authorization.organization
            )
        )
    )
    context = _context()
    try:
        token, _ = token_create(
            owner=authorization.user,
            organization=authorization.organization,
            name=free_name(owner=authorization.user, name=authorization.name),
            description=(
                f"The client calls itself “{authorization.client.name}” (unverified) and was sent "
                f"back to {urlsplit(authorization.redirect_uri).netloc}."
            ),
            scopes=authorization.scopes,
            projects=projects,
            expires_at=authorization.connection_expires_at,
            kind=Token.Kind.AGENT,
            client=Token.Client.OAUTH,
            secret_expires_at=secret_expires_at,
            audience=MCP_PATH,
            secret=access,
            ip=context["ip"],
            user_agent=context["user_agent"],
        )
    except (TokenValidationError, IntegrityError) as exc:
        raise errors.InvalidGrantError(description=str(exc)) from exc
    RefreshToken.objects.create(
        digest=codec.digest(refresh), connection=token, client=authorization.client
    )
    authorization.used_at, authorization.connection = timezone.now(), token
    authorization.save(update_fields=["used_at", "connection"])
    return token


@sensitive_variables("access", "next_refresh")
def connection_refresh(
    *, refresh: RefreshToken, access: str, next_refresh: str, secret_expires_at: datetime
) -> None:
    """Use `refresh` up: the connection's secret becomes `access` (the old one ends now) and
    `next_refresh` is the only refresh token that works next."""
    refresh.used_at = timezone.now()
    refresh.save(update_fields=["used_at"])
    connection = refresh.connection
    token_secret_renew(token=connection, secret_expires_at=secret_expires_at, secret=access)
    RefreshToken.objects.create(
        digest=codec.digest(next_refresh), connection=connection, client_id=refresh.client_id
    )
    context = _context()
    audit_record(
        event=Event.AGENT_REFRESHED,
        token=connection,
        actor_id=connection.owner_id,
        ip=context["ip"],
        user_agent=context["user_agent"],
        detail={"request_id": context["request_id"]} if context["request_id"] else None,
    )


def connection_refresh_refusal(refresh: RefreshToken) -> str:
    """Why this connection may not refresh, or "": it ended, or its organization's policy no
    longer lets its client connect (so turning OAuth off ends every connection within the hour
    its access token has left)."""
    connection = refresh.connection
    if connection.state() != Token.State.ACTIVE:
        return "The connection was revoked or expired. Approve the agent again."
    approved = (
        AuthorizationCode.objects.filter(connection=connection)
        .values_list("redirect_uri", flat=True)
        .first()
    )
    return connection_refusal(
        organization=connection.organization, client=refresh.client, redirect_uri=approved
    )


def connection_end_reused_refresh(*, refresh: RefreshToken) -> None:
    """A used refresh token came back: it leaked, or the client lost track. OAuth 2.1 §4.3.1
    ends the whole connection either way."""
    token_revoke_oauth(token=refresh.connection, reason="refresh-reused", ip=_context()["ip"])


def connection_end_replayed_code(*, code: AuthorizationCode) -> None:
    """RFC 6749 §4.1.2: a code used twice revokes what it issued."""
    if code.connection is not None:
        token_revoke_oauth(token=code.connection, reason="code-reused", ip=_context()["ip"])


def connection_revoke_by_secret(*, secret: str, client: Client | None) -> None:
    """RFC 7009: the client gives back its access or refresh token, and the connection ends.
    Unknown tokens, and another client's, are ignored, as the RFC asks (the answer is 200)."""
    try:
        parsed = codec.parse(secret, kinds=frozenset({"agt", codec.REFRESH}))
    except codec.MalformedToken:
        return
    if client is None:
        return
    if parsed.kind == codec.REFRESH:
        found = RefreshToken.objects.filter(digest=parsed.digest, client=client).first()
        connection = found.connection if found else None
    else:
        connection = Token.objects.filter(digest=parsed.digest, client=Token.Client.OAUTH).first()
        if (
            connection
            and not RefreshToken.objects.filter(connection=connection, client=client).exists()
        ):
            connection = None
    if connection is not None:
        token_revoke_oauth(token=connection, reason="client", ip=_context()["ip"])


def connections_reported(*, digests: list[str], **kwargs: Any) -> list[Token]:
    """A leak report (tokens.services.token_revoke_reported) that holds refresh tokens: the
    connections they belong to end with the rest of the report."""
    return list(
        Token.objects.filter(
            pk__in=RefreshToken.objects.filter(digest__in=digests).values("connection_id")
        )
    )
