"""Writes: minting, rotating and revoking tokens, authenticating a request, the organization's
token policy, and the daily lifecycle jobs (expiry reminders, unused-token revocation).

Every public function takes keyword-only arguments and validates what it is given: a bad value
is a TokenValidationError naming the form field to blame (or Django's ValidationError for the
policy), never a 500. Emails go through tokens.emails and never hold a secret.
"""

import enum
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.services import Event, audit_record
from orgs.models import Membership, Organization, Role

from . import codec, emails, ipallow, ratelimits
from .models import ExpiryReminder, Token
from .permissions import SCOPES
from .selectors import (
    TokenPrincipal,
    policy_clamp_expiry,
    policy_exceeding_tokens,
    policy_expiry_limits,
    policy_latest_expiry,
    reminder_due,
    rotation_expiry,
    token_get_for_auth,
    tokens_working_by_digest,
    unused_tokens,
)

MAX_AUTHORIZATION_LENGTH = 256
# The overlaps the UI offers when rotating; token_rotate takes any timedelta up to the longest.
ROTATION_OVERLAPS: dict[str, timedelta | None] = {
    "none": None,
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
MAX_ROTATION_OVERLAP = timedelta(days=7)
# Leaked-token reports: at most this many strings a report, each at most this long.
MAX_REPORTED_CREDENTIALS = 1000
MAX_REPORTED_LENGTH = 100
POLICY_MAX_DAYS = 3650
OVERSEERS = (Role.OWNER, Role.ADMIN)

# Kept for callers that imported it from here.
one_line = emails.one_line


class TokenValidationError(Exception):
    """A token cannot be created as asked; `field` names the form field to blame, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class AuthenticationFailed(Exception):
    """The bearer token cannot be used; `description` is safe to show the caller, and `reason`
    names the problem type (tokens.responses.PROBLEMS)."""

    def __init__(self, description: str, reason: str = "malformed-token"):
        super().__init__(description)
        self.description = description
        self.reason = reason


class TooManyFailures(Exception):
    """This client sent too many unusable tokens this minute; it may retry after `retry_after`."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class _Keep(enum.Enum):
    KEEP = "keep"


# policy_update's "leave this setting as it is" (None already means "no maximum").
KEEP = _Keep.KEEP


# Checks shared by every way of minting a token.


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise TokenValidationError("Give the token a name.", "name")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        # Line breaks and invisible formatting (bidi overrides such as U+202E) would let a name
        # pose as something else in lists, emails and logs.
        raise TokenValidationError(
            "Use plain text: no line breaks or invisible formatting characters.", "name"
        )
    return name


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenValidationError(f"Unknown scope: {', '.join(unknown)}.", "scopes")
    if not scopes:
        raise TokenValidationError("Choose at least one scope.", "scopes")
    return [scope for scope in SCOPES if scope in scopes]


def _clean_allowed_ips(allowed_ips: list[str] | None) -> str:
    if allowed_ips is not None and (
        isinstance(allowed_ips, str) or not all(isinstance(entry, str) for entry in allowed_ips)
    ):
        raise TokenValidationError("List addresses and networks, one per entry.", "allowed_ips")
    try:
        return ipallow.normalize(allowed_ips)
    except ipallow.InvalidAllowlist as exc:
        raise TokenValidationError(str(exc), "allowed_ips") from exc


def _last_allowed_day(latest: datetime) -> str:
    return timezone.localdate(latest - timedelta(microseconds=1)).strftime("%b %-d, %Y")


def _check_expiry(*, organization, expires_at: datetime | None, now: datetime) -> None:
    """The expiry is in the future and within the organization's token policy. A form offers
    only what the policy allows; this is what a bypassed form meets."""
    if expires_at is not None and expires_at <= now:
        raise TokenValidationError("The expiry must be in the future.", "expires_on")
    max_days, allow_no_expiry = policy_expiry_limits(organization=organization)
    if expires_at is None and not allow_no_expiry:
        most = f" of at most {max_days} days" if max_days else ""
        raise TokenValidationError(
            f"{organization.name}’s token policy requires an expiry{most}: choose one.",
            "expiry",
        )
    latest = policy_latest_expiry(organization=organization, now=now)
    if latest is not None and expires_at is not None and expires_at > latest:
        raise TokenValidationError(
            f"{organization.name}’s token policy allows tokens to last at most {max_days} days: "
            f"pick an expiry on or before {_last_allowed_day(latest)}.",
            "expiry",
        )


def _check_person(*, person, organization, roles=None) -> None:
    """The person minting a token: verified, a member (with one of `roles`, if given), and with
    two factors where the organization requires them."""
    if not person.email_verified:
        raise TokenValidationError("Verify your email address before creating tokens.")
    role = (
        Membership.objects.filter(user=person, organization=organization)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise TokenValidationError("You are not a member of this organization.", "organization")
    if roles is not None and role not in roles:
        raise TokenValidationError(
            f"Only owners and admins of {organization.name} can manage project tokens."
        )
    if organization.require_two_factor and not person.has_two_factors:
        raise TokenValidationError(
            f"{organization.name} requires two-factor authentication: set it up under "
            "Settings → Security first.",
            "organization",
        )


@sensitive_variables("secret")
def _insert(*, kind: str, projects, **fields) -> tuple[Token, str]:
    """Store a new token with a new secret; the name's uniqueness is the database's to keep."""
    secret = codec.generate(kind)
    try:
        with transaction.atomic():
            token = Token.objects.create(
                kind=kind,
                digest=codec.digest(secret),
                prefix=codec.display_prefix(secret),
                **fields,
            )
            if projects:
                token.projects.set(projects)
    except IntegrityError as exc:
        name = fields["name"]
        if kind == Token.Kind.PROJECT:
            message = f"This project already has a token named “{name}”."
        else:
            message = f"You already have a token named “{name}”."
        raise TokenValidationError(
            f"{message} Pick another name or revoke that one.", "name"
        ) from exc
    return token, secret


@sensitive_variables("secret")
def token_create(
    *,
    owner,
    organization,
    name: str,
    scopes: list[str],
    description: str = "",
    projects=None,
    expires_at: datetime | None = None,
    kind: str = Token.Kind.PERSONAL,
    client: str = "",
    allowed_ips: list[str] | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[Token, str]:
    """Mint a personal access token or agent connection and return it with its secret, which
    exists only in this return value.

    `projects=None` means every project of the organization; a list restricts the token to those.
    `allowed_ips` lists the addresses and CIDR networks it may be used from (None: anywhere).
    The expiry must satisfy the organization's token policy. The owner is emailed (never the
    secret), with where the request came from (`ip`, `user_agent`) when there was one.
    Project tokens are made with project_token_create.
    """
    if kind not in (Token.Kind.PERSONAL, Token.Kind.AGENT):
        raise ValueError(f"token_create makes personal tokens and agent connections, not {kind!r}")
    _check_person(person=owner, organization=organization)
    name = _clean_name(name)
    scopes = _clean_scopes(scopes)
    if projects is not None:
        projects = list(projects)
        if not projects:
            raise TokenValidationError("Choose at least one project.", "projects")
        if any(project.organization_id != organization.pk for project in projects):
            raise TokenValidationError(f"Choose projects of {organization.name} only.", "projects")
    _check_expiry(organization=organization, expires_at=expires_at, now=timezone.now())
    allowed = _clean_allowed_ips(allowed_ips)

    with transaction.atomic():
        token, secret = _insert(
            kind=kind,
            projects=projects,
            owner=owner,
            organization=organization,
            created_by=owner,
            name=name,
            description=description.strip(),
            scopes=scopes,
            all_projects=projects is None,
            expires_at=expires_at,
            client=client if kind == Token.Kind.AGENT else "",
            allowed_ips=allowed,
        )
        audit_record(
            event=Event.AGENT_CONNECTED if kind == Token.Kind.AGENT else Event.TOKEN_CREATED,
            token=token,
            actor_id=owner.pk,
            ip=ip,
            user_agent=user_agent,
            detail={"name": token.name, "scopes": token.scopes, "client": token.client},
        )
        transaction.on_commit(
            lambda: emails.token_created(token=token, ip=ip, user_agent=user_agent)
        )
    return token, secret


@sensitive_variables("secret")
def project_token_create(
    *,
    project,
    by,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    description: str = "",
    allowed_ips: list[str] | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[Token, str]:
    """Mint a project token (`tsr_prj_`) and return it with its secret, shown only here.

    Only owners and admins of the project's organization may (TokenValidationError otherwise).
    The token belongs to the project, not to `by`: it survives `by` leaving the organization or
    being deactivated. It reaches only its project, with its scopes capped at what the member
    role allows (tokens.permissions.PROJECT_TOKEN_ROLE). `by` is recorded as its creator and
    emailed, as for any new credential.
    """
    organization = project.organization
    _check_person(person=by, organization=organization, roles=OVERSEERS)
    name = _clean_name(name)
    scopes = _clean_scopes(scopes)
    _check_expiry(organization=organization, expires_at=expires_at, now=timezone.now())
    allowed = _clean_allowed_ips(allowed_ips)
    with transaction.atomic():
        token, secret = _insert(
            kind=Token.Kind.PROJECT,
            projects=None,
            owner=None,
            organization=organization,
            project=project,
            created_by=by,
            name=name,
            description=description.strip(),
            scopes=scopes,
            all_projects=False,
            expires_at=expires_at,
            allowed_ips=allowed,
        )
        audit_record(
            event=Event.TOKEN_CREATED,
            token=token,
            actor_id=by.pk,
            ip=ip,
            user_agent=user_agent,
            detail={"name": token.name, "scopes": token.scopes, "project": project.name},
        )
        transaction.on_commit(
            lambda: emails.token_created(token=token, ip=ip, user_agent=user_agent)
        )
    return token, secret


def _who(token: Token, by) -> str:
    """How the audit log names who acted on a token."""
    if by is None:
        return "operator"
    return "owner" if by.pk == token.owner_id else "admin"


@sensitive_variables("secret")
def token_rotate(
    *,
    token: Token,
    by,
    overlap: timedelta | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> tuple[Token, str]:
    """Replace the token with a new secret and return the successor with that secret, shown
    only here.

    The successor keeps the kind, name, description, organization, scopes, project restriction
    (or project), client and allowed IPs, and gets a fresh expiry of the original's length
    (created → expires; none stays none), clamped to the organization's policy. The old token
    stops working at once, or with an `overlap` (ROTATION_OVERLAPS; at most 7 days, never past
    its own expiry) at the end of it; either way it is marked rotated and links its successor,
    and a request with it is refused as rotated. Rotating an expired token renews it; a revoked
    or already rotated one cannot be rotated.

    Who may rotate: a personal token or agent connection, its owner (or None, an operator at
    the shell); a project token, an owner or admin of its organization. Not an admin for a
    member's token: the new secret goes to whoever rotates, and it would act as that member
    (admins revoke members' agent connections instead). The owner is emailed when someone else
    (an operator) rotated their token; nobody is for a project token.
    """
    if overlap is not None and not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise TokenValidationError("Choose an overlap between none and 7 days.", "overlap")
    if by is not None:
        if token.kind == Token.Kind.PROJECT:
            if not Membership.objects.filter(
                user=by, organization_id=token.organization_id, role__in=OVERSEERS
            ).exists():
                raise TokenValidationError(
                    "Only owners and admins of its organization can rotate a project token."
                )
        elif by.pk != token.owner_id:
            raise TokenValidationError(
                "Only its owner can rotate a token: its new secret would act as them. "
                "Revoke it instead."
            )
    now = timezone.now()
    with transaction.atomic():
        # Locked: two rotations at once make one successor, and the second is told why not.
        old = Token.objects.select_for_update().get(pk=token.pk)
        if old.revoked_at is not None:
            raise TokenValidationError(
                f"“{old.name}” was revoked, so it cannot be rotated: create a new one instead."
            )
        if old.rotated_at is not None:
            raise TokenValidationError(
                f"“{old.name}” was already rotated: rotate its replacement instead."
            )
        organization = Organization.objects.get(pk=old.organization_id)
        if (
            old.kind != Token.Kind.PROJECT
            and not Membership.objects.filter(
                user_id=old.owner_id, organization=organization
            ).exists()
        ):
            raise TokenValidationError(
                f"Its owner is no longer a member of {organization.name}, so it cannot be rotated."
            )
        expires_at = rotation_expiry(token=old, organization=organization, now=now)
        ends = now + (overlap or timedelta(0))
        if old.expires_at is not None:
            ends = min(ends, old.expires_at)  # an overlap never lengthens a token's life
        # Marked rotated first: the successor takes the name, which the constraint keeps unique
        # only among tokens neither revoked nor rotated.
        Token.objects.filter(pk=old.pk).update(rotated_at=now, rotated_by=by, expires_at=ends)
        successor, secret = _insert(
            kind=old.kind,
            projects=list(old.projects.all()) if not old.all_projects else None,
            owner_id=old.owner_id,
            organization=organization,
            project_id=old.project_id,
            created_by=by,
            name=old.name,
            description=old.description,
            scopes=old.scopes,
            all_projects=old.all_projects,
            expires_at=expires_at,
            client=old.client,
            allowed_ips=old.allowed_ips,
            origin_id=old.origin_id or old.pk,
            created_at=now,
        )
        Token.objects.filter(pk=old.pk).update(replaced_by=successor)
        old.rotated_at, old.rotated_by, old.expires_at, old.replaced_by = now, by, ends, successor
        old.organization = successor.organization = organization
        audit_record(
            event=Event.TOKEN_ROTATED,
            token=old,
            actor_id=by.pk if by else None,
            ip=ip,
            user_agent=user_agent,
            detail={
                "by": _who(old, by),
                "name": old.name,
                "overlap": int((ends - now).total_seconds()) if ends > now else 0,
                "successor": successor.prefix,
            },
        )
        audit_record(
            event=Event.AGENT_CONNECTED if old.kind == Token.Kind.AGENT else Event.TOKEN_CREATED,
            token=successor,
            actor_id=by.pk if by else None,
            ip=ip,
            user_agent=user_agent,
            detail={
                "name": successor.name,
                "scopes": successor.scopes,
                "client": successor.client,
                "rotated_from": old.prefix,
            },
        )
        if old.kind != Token.Kind.PROJECT and (by is None or by.pk != old.owner_id):
            transaction.on_commit(
                lambda: emails.token_rotated(token=old, successor=successor, by=by)
            )
    return successor, secret


def _revoke(
    *,
    token: Token,
    by,
    label: str,
    reason: str = "",
    why: str | None = None,
    notify: bool = True,
    ip: str | None = None,
) -> bool:
    """Revoke at once and for good, audited with `label` (and `reason`); False if it already
    was. Whoever hears (tokens.emails.recipients) is told unless its owner, or an admin acting
    on a project token, did it; `why` is the email's explanation for a revocation nobody made
    by hand."""
    now = timezone.now()
    with transaction.atomic():
        updated = Token.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=by
        )
        if not updated:
            return False
        token.revoked_at, token.revoked_by = now, by
        detail = {"by": label, "name": token.name}
        if reason:
            detail["reason"] = reason
        audit_record(
            event=Event.TOKEN_REVOKED,
            token=token,
            actor_id=by.pk if by else None,
            ip=ip,
            detail=detail,
        )
    by_hand_here = by is not None and (by.pk == token.owner_id or token.kind == Token.Kind.PROJECT)
    if notify and not by_hand_here:
        emails.token_revoked(token=token, by=by, why=why)
    return True


def token_revoke(*, token: Token, by=None) -> bool:
    """Revoke at once and for good; False if it was already revoked.

    `by` is the owner, an organization admin (agent connections and project tokens: the caller
    checks), or None for the incident command. Anyone but the owner revoking a person's token
    emails the owner; an admin revoking a project token emails no one.
    """
    label = "incident" if by is None else _who(token, by)
    return _revoke(token=token, by=by, label=label)


def token_revoke_all(*, owner, reason: str, organization=None) -> int:
    """Revoke every active token of `owner` (in one organization, or everywhere) when they leave
    it or their account is deactivated. Audited one by one with the reason; no emails, since the
    person's access itself is what changed. Coming back does not bring the tokens back. Project
    tokens have no owner, so they are never touched."""
    now = timezone.now()
    tokens = Token.objects.filter(owner=owner, revoked_at__isnull=True)
    if organization is not None:
        tokens = tokens.filter(organization=organization)
    with transaction.atomic():
        ended = list(tokens.select_for_update().only("id", "prefix", "name", "organization_id"))
        Token.objects.filter(pk__in=[token.pk for token in ended]).update(revoked_at=now)
        for token in ended:
            token.owner_id = owner.pk
            audit_record(
                event=Event.TOKEN_REVOKED,
                token=token,
                detail={"by": reason, "name": token.name},
            )
    return len(ended)


def project_tokens_revoke(*, project) -> int:
    """Revoke a project's tokens because the project is going away (tokens.signals); the rows
    stay, so the audit log keeps them and a later use is refused as revoked, not unknown."""
    tokens = Token.objects.filter(
        project=project, kind=Token.Kind.PROJECT, revoked_at__isnull=True
    ).select_related("organization")
    return sum(
        _revoke(token=token, by=None, label="project deleted", notify=False) for token in tokens
    )


@sensitive_variables("values", "value")
def token_revoke_leaked(*, values: list[str], ip: str | None = None) -> int:
    """Revoke every working token among `values` (full secrets someone found in public, e.g. a
    secret scanner) and return how many. Strings that are not well-formed Tessera tokens are
    ignored; each revocation is audited as "reported leaked" with the reporter's address, and
    its owner (for a project token, the organization's owners and admins) is emailed."""
    digests = set()
    for value in values[:MAX_REPORTED_CREDENTIALS]:
        if not isinstance(value, str) or len(value) > MAX_REPORTED_LENGTH:
            continue
        try:
            digests.add(codec.parse(value.strip()).digest)
        except codec.MalformedToken:
            continue
    if not digests:
        return 0
    why = (
        "it was reported as leaked: someone found it where others can see it, such as a "
        "public repository, and reported it to Tessera"
    )
    return sum(
        _revoke(token=token, by=None, label="reported leaked", why=why, ip=ip)
        for token in tokens_working_by_digest(digests=digests)
    )


def token_revoke_unused(*, now: datetime | None = None) -> int:
    """Run every organization's "revoke tokens unused for N days" policy; returns how many were
    revoked. Each is audited ("unused for N days") and its owner (or a project token's
    overseers) emailed. Run daily by `manage.py notify_expiring`."""
    now = now or timezone.now()
    revoked = 0
    for organization in Organization.objects.filter(revoke_unused_after_days__isnull=False):
        days = organization.revoke_unused_after_days
        why = (
            f"it was unused for {days} days, and {organization.name}’s token policy revokes "
            "tokens unused that long"
        )
        for token in unused_tokens(organization=organization, now=now):
            revoked += _revoke(
                token=token,
                by=None,
                label="policy",
                reason=f"unused for {days} days",
                why=why,
            )
    return revoked


def _reminder_recipients(token: Token) -> list[str]:
    if token.kind == Token.Kind.PROJECT:
        return list(
            Membership.objects.filter(
                organization_id=token.organization_id,
                role__in=OVERSEERS,
                user__is_active=True,
                user__token_expiry_reminders=True,
            )
            .order_by("user__email")
            .values_list("user__email", flat=True)
        )
    owner = token.owner
    if owner is None or not owner.is_active or not owner.token_expiry_reminders:
        return []
    return [owner.email]


def token_remind_expiring(*, now: datetime | None = None) -> int:
    """Email about tokens that expire within 7 days, within a day, and that have expired, each
    kind at most once per token (ExpiryReminder records it, so a second run the same day sends
    nothing new); returns how many emails went out. Owners who turned reminders off
    (User.token_expiry_reminders) get none; a project token's reminders go to the organization's
    owners and admins. Run daily by `manage.py notify_expiring`."""
    now = now or timezone.now()
    sent = 0
    # Most urgent first: a token within a day of expiry gets that reminder, not the 7-day one.
    for kind in (ExpiryReminder.Kind.EXPIRED, ExpiryReminder.Kind.DAY, ExpiryReminder.Kind.WEEK):
        for token in reminder_due(kind=kind, now=now):
            to = _reminder_recipients(token)
            # Recorded with the email: if sending fails, the next run tries again.
            with transaction.atomic():
                _, created = ExpiryReminder.objects.get_or_create(
                    token=token, kind=kind, defaults={"sent_at": now}
                )
                if created and to:
                    emails.token_expiry_reminder(token=token, kind=kind, to=to)
                    sent += 1
    return sent


# Authentication: the hot path.


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
def token_authenticate(*, authorization: str, ip: str | None, user_agent: str) -> TokenPrincipal:
    """Turn an Authorization header into a usable token, or raise AuthenticationFailed.

    Malformed input costs no query and counts nothing; a valid token costs one query, plus a
    write at most once a minute, and never touches the failure counter. A well-formed token that
    cannot be used counts against its client's address; past AUTH_FAILURE_LIMIT_PER_MINUTE the
    answer is TooManyFailures instead. A token used from outside its IP allowlist is refused
    (403, reason "ip-not-allowed") without counting: its holder has the secret already.
    """
    parsed = bearer_token(authorization)
    token = token_get_for_auth(digest=parsed.digest)
    now = timezone.now()
    if token is None:
        _refuse("The access token is not recognised.", "unknown-token", ip=ip)
    if token.revoked_at is not None:
        _token_record_rejection(token=token, reason="revoked", now=now, ip=ip)
        _refuse("The access token was revoked.", "token-revoked", ip=ip)
    if token.is_expired(now):
        if token.rotated_at is not None:
            _token_record_rejection(token=token, reason="rotated", now=now, ip=ip)
            _refuse("The access token was rotated; use its replacement.", "token-rotated", ip=ip)
        _token_record_rejection(token=token, reason="expired", now=now, ip=ip)
        _refuse("The access token expired.", "token-expired", ip=ip)
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


def _refuse(description: str, reason: str, *, ip: str | None) -> NoReturn:
    window = ratelimits.hit(
        f"auth-failures:{ip}", limit=settings.AUTH_FAILURE_LIMIT_PER_MINUTE, period=60
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


# The organization's token policy (owners only: the callers check).


def _days(value, field: str, *, least: int) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not least <= value <= POLICY_MAX_DAYS
    ):
        raise ValidationError(
            {field: f"Choose a whole number of days from {least} to {POLICY_MAX_DAYS}."}
        )
    return value


def policy_update(
    *,
    organization,
    by,
    require_two_factor: bool | _Keep = KEEP,
    token_max_lifetime_days: int | _Keep | None = KEEP,
    allow_no_expiry: bool | _Keep = KEEP,
    require_agent_connections: bool | _Keep = KEEP,
    revoke_unused_after_days: int | _Keep | None = KEEP,
) -> bool:
    """Change the organization's token policy (owners only: the caller checks); audited with
    what changed. Returns whether anything did. Leave a setting out (KEEP) to keep it; None
    turns a number of days off.

    - `token_max_lifetime_days`: the longest a new personal token, agent connection or project
      token may last (1 to 3650; None: no maximum). A maximum also rules out "no expiry".
    - `allow_no_expiry`: whether tokens may never expire (when there is no maximum).
    - `require_agent_connections`: /mcp refuses personal and project tokens.
    - `revoke_unused_after_days`: the daily job revokes tokens unused this long (7 to 3650).

    Lowering the maximum does not shorten existing tokens: see policy_exceeding_tokens and
    policy_cap_tokens. Bad values raise ValidationError naming the field.
    """
    wanted = {
        "require_two_factor": require_two_factor,
        "token_max_lifetime_days": token_max_lifetime_days,
        "allow_no_expiry": allow_no_expiry,
        "require_agent_connections": require_agent_connections,
        "revoke_unused_after_days": revoke_unused_after_days,
    }
    wanted = {name: value for name, value in wanted.items() if value is not KEEP}
    for name in ("require_two_factor", "allow_no_expiry", "require_agent_connections"):
        if name in wanted and not isinstance(wanted[name], bool):
            raise ValidationError({name: "Choose yes or no."})
    if "token_max_lifetime_days" in wanted:
        _days(wanted["token_max_lifetime_days"], "token_max_lifetime_days", least=1)
    if "revoke_unused_after_days" in wanted:
        _days(wanted["revoke_unused_after_days"], "revoke_unused_after_days", least=7)
    changed = {
        name: value for name, value in wanted.items() if getattr(organization, name) != value
    }
    if not changed:
        return False
    if changed.get("require_two_factor") and not by.has_two_factors:
        raise ValidationError(
            {"require_two_factor": "Turn on two-factor authentication for your own account first."}
        )
    for name, value in changed.items():
        setattr(organization, name, value)
    organization.save(update_fields=list(changed))
    audit_record(
        event=Event.POLICY_CHANGED,
        organization_id=organization.pk,
        actor_id=by.pk,
        detail=changed,
    )
    return True


def policy_cap_tokens(*, organization, by) -> int:
    """Bring every token that exceeds the policy (policy_exceeding_tokens) within it, in one
    action (owners only: the caller checks): each now expires at the latest day the maximum
    allows from today, or, where an expiry is required without a maximum, after its kind's
    default lifetime. Audited per token; each owner (a project token's overseers) gets one
    email listing theirs. Returns how many were shortened."""
    now = timezone.now()
    capped: list[Token] = []
    with transaction.atomic():
        for token in policy_exceeding_tokens(organization=organization, now=now):
            new = policy_clamp_expiry(
                organization=organization, kind=token.kind, expires_at=token.expires_at, now=now
            )
            if new is None or (token.expires_at is not None and token.expires_at <= new):
                continue
            # Conditional: a token rotated or revoked meanwhile is left alone.
            updated = Token.objects.filter(
                pk=token.pk, revoked_at__isnull=True, rotated_at__isnull=True
            ).update(expires_at=new)
            if not updated:
                continue
            before, token.expires_at = token.expires_at, new
            audit_record(
                event=Event.TOKEN_CAPPED,
                token=token,
                actor_id=by.pk,
                detail={
                    "name": token.name,
                    "from": before.isoformat() if before else None,
                    "to": new.isoformat(),
                },
            )
            capped.append(token)
        by_recipient: dict[str, list[Token]] = defaultdict(list)
        for token in capped:
            for address in emails.recipients(token):
                by_recipient[address].append(token)

        def tell() -> None:
            for address, theirs in by_recipient.items():
                emails.tokens_capped(to=address, tokens=theirs, organization=organization)

        transaction.on_commit(tell)
    return len(capped)
