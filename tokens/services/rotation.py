"""Rotation: a new secret with the same settings, and the old one ended at once or after an
overlap."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.services import Event, audit_record
from core.db import retry_when_locked
from core.emails import send_on_commit
from orgs.models import OVERSEERS, Membership

from .. import codec, emails
from ..models import Token
from ..policy import rotation_expiry
from .minting import TokenConflict, TokenValidationError, token_mint

# The overlaps the UI offers when rotating; token_rotate takes any timedelta up to the longest.
ROTATION_OVERLAPS: dict[str, timedelta | None] = {
    "none": None,
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
MAX_ROTATION_OVERLAP = timedelta(days=7)


# How the audit log names a token that rotated or revoked itself through the API.
SELF = "the token itself"


class TokenAlreadyRotated(TokenConflict):
    """The token was rotated before: only its replacement can be rotated (the API's 409)."""


def who(token: Token, by: User | None) -> str:
    """How the audit log names who acted on a token."""
    if by is None:
        return "operator"
    return "owner" if by.pk == token.owner_id else "admin"


def _check_rotator(token: Token, by: User | None) -> None:
    """A person's token: its owner (or None, an operator at the shell). A project token: an
    owner or admin of its organization. Never an admin for a member's token: the new secret
    goes to whoever rotates, and it would act as that member."""
    if by is None:
        return
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


def _lock_rotatable(token: Token) -> Token:
    """The token, locked, if it can still be rotated: two rotations at once make one
    successor, and the second is told why not."""
    old = (
        Token.objects.select_for_update(of=("self",))
        .select_related("organization", "owner", "project")
        .get(pk=token.pk)
    )
    if old.revoked_at is not None:
        raise TokenConflict(
            f"“{old.name}” was revoked, so it cannot be rotated: create a new one instead."
        )
    if old.is_oauth:
        raise TokenValidationError(
            f"“{old.name}” is an OAuth connection: its client renews its own secret. Revoke it "
            "and approve the agent again to start over."
        )
    if old.rotated_at is not None:
        raise TokenAlreadyRotated(
            f"“{old.name}” was already rotated: rotate its replacement instead."
        )
    if (
        old.owner_id is not None
        and not Membership.objects.filter(
            user_id=old.owner_id, organization_id=old.organization_id
        ).exists()
    ):
        raise TokenValidationError(
            f"Its owner is no longer a member of {old.organization.name}, so it cannot be rotated."
        )
    return old


@sensitive_variables("secret")
def _mint_successor(
    old: Token, *, by: User | None, now: datetime, ip: str | None, user_agent: str
) -> tuple[Token, str]:
    """The same token with a new secret and a fresh lifetime, continuing the rotation line."""
    return token_mint(
        kind=old.kind,
        organization=old.organization,
        by=by,
        owner=old.owner,
        project=old.project,
        projects=None if old.all_projects or old.project_id else list(old.projects.all()),
        name=old.name,
        description=old.description,
        scopes=old.scopes,
        expires_at=rotation_expiry(token=old, now=now),
        client=old.client,
        allowed_ips=old.allowed_ip_list,
        origin_id=old.origin_id or old.pk,
        ip=ip,
        user_agent=user_agent,
        detail={"client": old.client, "rotated_from": old.prefix},
    )


@sensitive_variables("secret")
def token_rotate(
    *,
    token: Token,
    by: User | None,
    overlap: timedelta | None = None,
    ip: str | None = None,
    user_agent: str = "",
    label: str | None = None,
) -> tuple[Token, str]:
    """Replace the token with a new secret and return the successor with that secret.

    The successor keeps the kind, name, description, organization, scopes, project restriction
    (or project), client and allowed IPs, and gets a fresh expiry of the original's length
    (created → expires; none stays none), clamped to the organization's policy. The old token
    stops working at once, or with an `overlap` (ROTATION_OVERLAPS; at most 7 days, never past
    its own expiry) at the end of it; either way it is marked rotated and links its successor,
    and a request with it is refused as rotated. Rotating an expired token renews it; a revoked
    or already rotated one cannot be rotated (TokenAlreadyRotated). `token` is updated to say so.
    `label` names who acted in the audit log when `by` alone would not (the token itself).

    Who may rotate: see _check_rotator. The owner is emailed when someone else (an operator)
    rotated their token; for a project token, each owner and admin of its organization is.
    """
    if overlap is not None and not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise TokenValidationError("Choose an overlap between none and 7 days.", "overlap")
    now = timezone.now()

    def rotate() -> tuple[Token, str]:
        _check_rotator(token, by)
        return _rotate(
            token, by=by, overlap=overlap, now=now, ip=ip, user_agent=user_agent, label=label
        )

    return retry_when_locked(rotate)


@sensitive_variables("secret")
@transaction.atomic
def _rotate(
    token: Token,
    *,
    by: User | None,
    overlap: timedelta | None,
    now: datetime,
    ip: str | None,
    user_agent: str,
    label: str | None,
) -> tuple[Token, str]:
    old = _lock_rotatable(token)
    ends = now + (overlap or timedelta(0))
    if old.expires_at is not None:
        ends = min(ends, old.expires_at)  # an overlap never lengthens a token's life
    # Marked rotated first: the successor takes the name, which the constraint keeps unique
    # only among tokens neither revoked nor rotated.
    itself = label == SELF
    Token.objects.filter(pk=old.pk).update(
        rotated_at=now, rotated_by=by, expires_at=ends, rotated_itself=itself
    )
    successor, secret = _mint_successor(old, by=by, now=now, ip=ip, user_agent=user_agent)
    Token.objects.filter(pk=old.pk).update(replaced_by=successor)
    for target in (old, token):
        target.rotated_at, target.rotated_by, target.expires_at = now, by, ends
        target.replaced_by = successor
    audit_record(
        event=Event.TOKEN_ROTATED,
        token=old,
        actor=by,
        ip=ip,
        user_agent=user_agent,
        detail={
            "by": label or who(old, by),
            "name": old.name,
            "overlap": int((ends - now).total_seconds()) if ends > now else 0,
            "successor": successor.prefix,
        },
    )
    # A project token's owners and admins all hear; a person, when someone else did it, or when
    # the token rotated itself over the API (a stolen one could otherwise renew itself unseen).
    if old.kind == Token.Kind.PROJECT or by is None or by.pk != old.owner_id or itself:
        send_on_commit(
            lambda: emails.token_rotated(
                token=old, successor=successor, by=by, itself=itself, ip=ip
            )
        )
    return successor, secret


@sensitive_variables("secret")
def token_secret_renew(
    *, token: Token, secret_expires_at: datetime, secret: str | None = None
) -> str:
    """Give a working token a new secret in place (`secret`, or a new one), lasting until
    `secret_expires_at`, and return it: the old secret stops working at once. This is how an
    OAuth connection's access token is refreshed (the oauth app): one connection, one row,
    however many hours it lives, unlike a rotation, which makes a successor. The caller audits
    the refresh, under its own lock."""
    if secret is None:
        secret = codec.generate(token.kind)
    elif codec.parse(secret).kind != token.kind:
        raise ValueError("the secret given is not of the token's kind")
    token.digest, token.prefix = codec.digest(secret), codec.display_prefix(secret)
    token.secret_expires_at = secret_expires_at
    token.save(update_fields=["digest", "prefix", "secret_expires_at"])
    return secret
