"""How a bearer token is checked: the one module to open first.

Every request to /api and /mcp comes through `token_authenticate` (from tokens.middleware):
1. `bearer_token` parses the Authorization header and checks the token's shape and checksum
   offline (tokens.codec): a malformed token costs no query.
2. `token_get_for_auth` runs the one query: the token, its owner, organization and policy, and
   the owner's current role, read into a `TokenPrincipal` (plain values, no model instances).
3. The refusals, in order: unknown, revoked, rotated, expired, owner without access, two factors
   missing where required, an address outside the token's allowlist. Each is an
   `AuthenticationFailed` naming its problem type (core.problems.PROBLEMS). Well-formed tokens
   that cannot be used count against the client's address (`TooManyFailures` past the limit).
4. Last use is written at most once a minute per token, by a conditional UPDATE.

What the token may then do is tokens.permissions' business.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, overload

import psycopg
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.services import Event, audit_record
from core import ipallow, ratelimits
from orgs.models import Membership, Organization

from . import codec
from .models import Token
from .permissions import PROJECT_TOKEN_ROLE

MAX_AUTHORIZATION_LENGTH = 256


class AuthenticationFailed(Exception):
    """The bearer token cannot be used; `description` is safe to show the caller, and `reason`
    names the problem type (core.problems.PROBLEMS)."""

    def __init__(self, description: str, reason: str = "malformed-token"):
        super().__init__(description)
        self.description = description
        self.reason = reason


class TooManyFailures(Exception):
    """This client sent too many unusable tokens this minute; it may retry after `retry_after`."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(slots=True)
class TokenPrincipal:
    """An authenticated token as the hot path sees it: plain values from one query, no model.

    `owner` and `organization` are model instances built from the same row, with every other
    field deferred, so reading them costs nothing and writing through them works as usual. A
    project token has no owner (`owner_id` and `owner` are None) and the role
    PROJECT_TOKEN_ROLE, whoever made it.
    """

    pk: int
    kind: str
    name: str
    prefix: str
    scopes: list[str]
    all_projects: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_at: datetime | None
    last_used_at: datetime | None
    last_rejected_at: datetime | None
    owner_id: int | None
    owner_email: str | None
    owner_name: str | None
    owner_active: bool
    organization_id: int
    organization_slug: str
    organization_name: str
    role: str | None
    # False when the organization requires two factors and the owner has none.
    two_factor_ok: bool
    # The organization's policy: /mcp takes agent connections only.
    agent_connections_required: bool = False
    project_id: int | None = None
    # Token.allowed_ips as stored ("" for anywhere); core.ipallow reads it.
    allowed_ips: str = ""
    # Token.secret_expires_at and Token.audience (OAuth connections).
    secret_expires_at: datetime | None = None
    audience: str = ""
    # The scopes this request's operation needed (tokens.permissions.require notes them).
    accepted_scopes: list[str] = field(default_factory=list)
    _owner: User | None = field(default=None, repr=False)
    _organization: Organization | None = field(default=None, repr=False)

    @property
    def owner(self) -> User | None:
        if self._owner is None and self.owner_id is not None:
            self._owner = User.from_db(
                DEFAULT_DB_ALIAS,
                ["id", "email", "name", "is_active"],
                [self.owner_id, self.owner_email, self.owner_name, self.owner_active],
            )
        return self._owner

    @property
    def organization(self) -> Organization:
        if self._organization is None:
            self._organization = Organization.from_db(
                DEFAULT_DB_ALIAS,
                ["id", "name", "slug"],  # from_db wants the model's field order
                [self.organization_id, self.organization_name, self.organization_slug],
            )
        return self._organization

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@sensitive_variables("authorization", "value")
def bearer_token(authorization: str) -> codec.ParsedToken:
    """The token in an `Authorization: Bearer` header, checked offline (shape and checksum);
    AuthenticationFailed, costing no query, when it is not one."""
    if len(authorization) > MAX_AUTHORIZATION_LENGTH:
        raise AuthenticationFailed("The access token is malformed.")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
    try:
        return codec.parse(value.strip())
    except codec.MalformedToken as exc:
        raise AuthenticationFailed("The access token is malformed.") from exc


@sensitive_variables("authorization")
def token_authenticate(
    *, authorization: str, ip: str | None, user_agent: str, path: str = ""
) -> TokenPrincipal:
    """Turn an Authorization header into a usable token, or raise AuthenticationFailed.

    Malformed input costs no query and counts nothing; a valid token costs one query, plus a
    write at most once a minute, and never touches the failure counter. A well-formed token that
    cannot be used counts against its client's address; past AUTH_FAILURE_LIMIT_PER_MINUTE the
    answer is TooManyFailures instead. A token used from outside its IP allowlist is refused
    (403, reason "ip-not-allowed") without counting: its holder has the secret already, and so is
    a token issued for another resource than `path` (RFC 8707: "wrong-audience").
    """
    parsed = bearer_token(authorization)
    token = token_get_for_auth(digest=parsed.digest)
    now = timezone.now()
    if token is None:
        _refuse("The access token is not recognised.", "unknown-token", ip=ip)
    _refuse_if_ended(token, now=now, ip=ip)
    if token.audience and path != token.audience and not path.startswith(token.audience + "/"):
        raise AuthenticationFailed(
            f"This token was issued for {token.audience} only.", "wrong-audience"
        )
    if not token.owner_active or token.role is None:
        _refuse("The access token's owner no longer has access.", "owner-inactive", ip=ip)
    if not token.two_factor_ok:
        raise AuthenticationFailed(
            f"{token.organization_name} requires two-factor authentication: the token's owner "
            "must turn it on under Settings → Security.",
            "two-factor-required",
        )
    if token.allowed_ips and not ipallow.allows(token.allowed_ips, ip):
        _token_record_rejection(token=token, reason="ip-not-allowed", now=now, ip=ip)
        raise AuthenticationFailed(
            f"This token may not be used from {ip or 'an unknown address'}: it is restricted "
            "to other addresses.",
            "ip-not-allowed",
        )
    _token_mark_used(token=token, now=now, ip=ip, user_agent=user_agent)
    return token


def _refuse_if_ended(token: TokenPrincipal, *, now: datetime, ip: str | None) -> None:
    """Revoked, rotated past its overlap, or expired: logged (once a minute) and refused."""
    if token.revoked_at is not None:
        reason, slug, description = "revoked", "token-revoked", "The access token was revoked."
    elif (
        token.secret_expires_at is not None
        and token.secret_expires_at <= now
        and (not token.is_expired(now))
    ):
        # An OAuth access token past its hour: its client refreshes it. Nothing to log, and
        # nothing to count against the address: its holder has a secret that was good.
        raise AuthenticationFailed("The access token expired; refresh it.", "token-expired")
    elif not token.is_expired(now):
        return
    elif token.rotated_at is not None:
        reason, slug = "rotated", "token-rotated"
        description = "The access token was rotated; use its replacement."
    else:
        reason, slug, description = "expired", "token-expired", "The access token expired."
    _token_record_rejection(token=token, reason=reason, now=now, ip=ip)
    _refuse(description, slug, ip=ip)


def _refuse(description: str, reason: str, *, ip: str | None) -> NoReturn:
    window = ratelimits.hit(
        f"auth-failures:{ratelimits.address_key(ip)}",
        limit=settings.AUTH_FAILURE_LIMIT_PER_MINUTE,
        period=60,
    )
    if window is not None and window.exceeded:
        raise TooManyFailures(window.retry_after())
    raise AuthenticationFailed(description, reason)


def _token_record_rejection(
    *, token: TokenPrincipal, reason: str, now: datetime, ip: str | None
) -> None:
    """Log a use after revocation or expiry (or from outside the allowlist), once a minute per
    token at most, so a script stuck retrying a dead token cannot fill the log. Same shape as
    last use: the row we already read says whether to write, and a conditional UPDATE settles
    races between processes."""
    stale_before = now - timedelta(seconds=settings.TOKEN_LAST_USED_INTERVAL_SECONDS)
    if token.last_rejected_at is not None and token.last_rejected_at > stale_before:
        return
    claimed = Token.objects.filter(
        Q(last_rejected_at__isnull=True) | Q(last_rejected_at__lte=stale_before), pk=token.pk
    ).update(last_rejected_at=now)
    if claimed:
        audit_record(event=Event.TOKEN_REJECTED, token=token, ip=ip, detail={"reason": reason})


def _token_mark_used(
    *, token: TokenPrincipal, now: datetime, ip: str | None, user_agent: str
) -> None:
    """Record last use at most once per interval: a conditional UPDATE, skipped when fresh."""
    stale_before = now - timedelta(seconds=settings.TOKEN_LAST_USED_INTERVAL_SECONDS)
    if token.last_used_at is not None and token.last_used_at > stale_before:
        return
    Token.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before), pk=token.pk
    ).update(last_used_at=now, last_used_ip=ip, last_used_user_agent=user_agent[:255])
    token.last_used_at = now


# The one query.


def _auth_sql() -> str:
    token, user = Token._meta.db_table, User._meta.db_table
    organization, membership = Organization._meta.db_table, Membership._meta.db_table
    authenticator = Authenticator._meta.db_table
    factors = ", ".join(
        f"'{kind}'" for kind in (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
    )
    # Table names and the factor kinds come from the models, never from input; the digest is a
    # bound parameter. The factor check runs only for organizations that require two factors,
    # and never for a project token, which has no owner (hence the LEFT JOIN on the user).
    return (
        "SELECT t.id, t.kind, t.name, t.prefix, t.scopes, t.all_projects, t.created_at,"  # noqa: S608
        " t.expires_at, t.revoked_at, t.rotated_at, t.last_used_at, t.last_rejected_at,"
        " t.owner_id, u.email, u.name, u.is_active, t.organization_id, o.slug, o.name, m.role,"
        " CASE WHEN o.require_two_factor AND t.owner_id IS NOT NULL THEN EXISTS (SELECT 1 FROM"
        f" {authenticator} a WHERE a.user_id = t.owner_id AND a.type IN ({factors}))"
        " ELSE TRUE END,"
        " o.require_agent_connections, t.project_id, t.allowed_ips, t.secret_expires_at,"
        " t.audience"
        f" FROM {token} t"
        f" LEFT JOIN {user} u ON u.id = t.owner_id"
        f" JOIN {organization} o ON o.id = t.organization_id"
        f" LEFT JOIN {membership} m"
        "  ON m.user_id = t.owner_id AND m.organization_id = t.organization_id"
        " WHERE t.digest = %s"
    )


_AUTH_SQL = _auth_sql()


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive UTC datetimes; PostgreSQL aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _fetch(digest: str) -> tuple | None:
    """The auth query's row. On PostgreSQL it binds parameters server-side, so psycopg prepares
    the statement after a few runs and the server stops re-planning a four-table join on every
    request (planning costs more than executing it), through one cursor kept per connection;
    it skips Django's cursor wrapper but keeps its error translation, unless queries are being
    logged (DEBUG, tests counting queries), where it goes through Django like any other."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy looks it up
    cursor: Any
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(_AUTH_SQL, [digest])
            return cursor.fetchone()
    db.ensure_connection()
    if db.queries_logged:
        cursor = db.make_debug_cursor(psycopg.Cursor(db.connection))  # type: ignore[arg-type]
        with db.wrap_database_errors, cursor:
            cursor.execute(_AUTH_SQL, [digest])
            return cursor.fetchone()
    cursor = getattr(db, "_tessera_auth_cursor", None)
    if cursor is None or cursor.closed or cursor.connection is not db.connection:
        cursor = psycopg.Cursor(db.connection)
        setattr(db, "_tessera_auth_cursor", cursor)  # noqa: B010 (ours, on Django's object)
    with db.wrap_database_errors:
        cursor.execute(_AUTH_SQL, [digest])
        return cursor.fetchone()


def token_get_for_auth(*, digest: str) -> TokenPrincipal | None:
    """The token with this digest, its owner, organization and policy, and the owner's role:
    one query.

    Hand-written SQL on purpose: this runs on every API request, and building three model
    instances through the ORM costs more than the database round trip itself.
    """
    row = _fetch(digest)
    if row is None:
        return None
    (pk, kind, name, prefix, scopes, all_projects, created_at, expires_at, revoked_at, rotated_at,
     last_used_at, last_rejected_at, owner_id, email, owner_name, active, org_id, slug, org_name,
     role, two_factor_ok, agent_connections_required, project_id, allowed_ips,
     secret_expires_at, audience) = row  # fmt: skip
    if owner_id is None:  # a project token: the project's, not a person's
        role, active = PROJECT_TOKEN_ROLE, True
    return TokenPrincipal(
        pk=pk,
        kind=kind,
        name=name,
        prefix=prefix,
        scopes=json.loads(scopes) if isinstance(scopes, str) else scopes,
        all_projects=bool(all_projects),
        created_at=_aware(created_at),
        expires_at=_aware(expires_at),
        revoked_at=_aware(revoked_at),
        rotated_at=_aware(rotated_at),
        last_used_at=_aware(last_used_at),
        last_rejected_at=_aware(last_rejected_at),
        owner_id=owner_id,
        owner_email=email,
        owner_name=owner_name,
        owner_active=bool(active),
        organization_id=org_id,
        organization_slug=slug,
        organization_name=org_name,
        role=role,
        two_factor_ok=bool(two_factor_ok),
        agent_connections_required=bool(agent_connections_required),
        project_id=project_id,
        allowed_ips=allowed_ips or "",
        secret_expires_at=_aware(secret_expires_at),
        audience=audience or "",
    )
