"""Revocation: the one way a token ends before its time, by hand, by a report or by a job."""

from collections.abc import Iterable
from typing import cast

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from audit.services import Event, audit_record
from orgs.models import Organization
from projects.models import Project

from .. import codec, emails
from ..models import Token, working
from ..selectors import token_previous_working
from .rotation import SELF, who

# Leaked-token reports: at most this many strings a report, each at most this long.
MAX_REPORTED_CREDENTIALS = 1000
MAX_REPORTED_LENGTH = 100
# Sent with the `digests` of a leak report; a receiver returns the working tokens that other
# credentials among them lead to, for them to end with the rest: an OAuth refresh token
# (tsr_rft_, kept by the oauth app above) leads to its connection.
credentials_reported = Signal()


def _revoke(
    *,
    token: Token,
    by: User | None,
    label: str,
    reason: str = "",
    why: str | None = None,
    notify: bool = True,
    ip: str | None = None,
) -> bool:
    """Revoke at once and for good, audited with `label` (and `reason`); False if it already
    was. Whoever hears (tokens.selectors.token_recipients) is told unless its owner, or an admin
    acting on a project token, did it; `why` is the email's explanation for a revocation nobody
    made by hand."""
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
        audit_record(event=Event.TOKEN_REVOKED, token=token, actor=by, ip=ip, detail=detail)
    if notify:
        _tell(token=token, by=by, why=why)
    return True


def _tell(*, token: Token, by: User | None, why: str | None = None) -> None:
    """Email whoever hears about a revoked token, unless its owner, or an admin acting on a
    project token, did it."""
    by_hand_here = by is not None and (by.pk == token.owner_id or token.kind == Token.Kind.PROJECT)
    if not by_hand_here:
        emails.token_revoked(token=token, by=by, why=why)


def token_revoke(*, token: Token, by: User | None = None) -> bool:
    """Revoke at once and for good; False if it was already revoked.

    `by` is the owner, an organization admin (agent connections and project tokens: the caller
    checks), or None for the incident command. Anyone but the owner revoking a person's token
    emails the owner; an admin revoking a project token emails no one.
    """
    label = "incident" if by is None else who(token, by)
    return _revoke(token=token, by=by, label=label)


# The audit's reason for an older secret ended together with its successor.
WITH_SUCCESSOR = "ended with its successor"


def token_revoke_with_previous(*, token: Token, by: User | None = None) -> int:
    """Revoke the token and the older secrets of its rotation line that still work through a
    rotation's overlap (tokens.selectors.token_previous_working): one action, all or none,
    each audited and emailed as token_revoke would. How many were revoked."""
    label = "incident" if by is None else who(token, by)
    older = token_previous_working(token=token)
    with transaction.atomic():
        ended = [t for t in [token] if _revoke(token=t, by=by, label=label, notify=False)]
        ended += [
            old
            for old in older
            if _revoke(token=old, by=by, label=label, reason=WITH_SUCCESSOR, notify=False)
        ]
    for revoked in ended:
        _tell(token=revoked, by=by)
    return len(ended)


def token_revoke_self(*, token: Token, ip: str | None = None) -> bool:
    """The token ends itself (DELETE /api/v1/tokens/self): audited as by "the token itself",
    with its owner as the actor. Nobody is emailed about a person's token, which acts as its
    owner; a project token's overseers are told, since it acts as none of them."""
    why = "it revoked itself through the API (DELETE /api/v1/tokens/self)"
    return _revoke(token=token, by=token.owner, label=SELF, why=why, ip=ip)


# Why an OAuth connection ended without anyone's hand: the audit's reason and the owner's email.
OAUTH_ENDINGS = {
    "client": None,  # the client disconnected itself (RFC 7009): nobody needs telling
    "refresh-reused": "a refresh token of this connection was used a second time, so someone "
    "else may hold it. Approve the agent again if it was yours",
    "code-reused": "the code that created this connection was used a second time, so someone "
    "else may hold it. Approve the agent again if it was yours",
}


def token_revoke_oauth(*, token: Token, reason: str, ip: str | None = None) -> bool:
    """End an OAuth connection (the oauth app) for one of OAUTH_ENDINGS' reasons; its owner is
    emailed when the reason is a leak."""
    why = OAUTH_ENDINGS[reason]
    return _revoke(
        token=token, by=None, label="oauth", reason=reason, why=why, notify=why is not None, ip=ip
    )


def token_revoke_all(*, owner: User, reason: str, organization: Organization | None = None) -> int:
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


def project_tokens_revoke(*, project: Project) -> int:
    """Revoke a project's tokens because the project is going away (tokens.signals); the rows
    stay, so the audit log keeps them and a later use is refused as revoked, not unknown."""
    tokens = Token.objects.filter(
        project=project, kind=Token.Kind.PROJECT, revoked_at__isnull=True
    ).select_related("organization")
    return sum(
        _revoke(token=token, by=None, label="project deleted", notify=False) for token in tokens
    )


LEAKED_WHY = (
    "it was reported as leaked: someone found it where others can see it, such as a public "
    "repository, and reported it to Tessera"
)


@sensitive_variables("value")
def leaked_digest(value: object) -> str | None:
    """The digest of `value` if it is a well-formed Tessera token (a full secret someone found
    in public), without asking the database: the same work whether or not the token exists, so
    it can run inside the request that reported it. None for anything else."""
    if not isinstance(value, str) or len(value) > MAX_REPORTED_LENGTH:
        return None
    try:
        return codec.parse(value.strip(), kinds=codec.KINDS | {codec.REFRESH}).digest
    except codec.MalformedToken:
        return None


@sensitive_variables("values")
def leaked_digests(values: list[str]) -> list[str]:
    """leaked_digest of a report's values (the first MAX_REPORTED_CREDENTIALS), well-formed
    ones only, each once."""
    found = (leaked_digest(value) for value in values[:MAX_REPORTED_CREDENTIALS])
    return list(dict.fromkeys(digest for digest in found if digest is not None))


def token_revoke_reported(*, digests: list[str], ip: str | None = None, reporter: str = "") -> int:
    """Revoke every working token among these digests (leaked_digests) and return how many:
    each audited as "reported leaked" with the reporter's address, and one email per person
    listing theirs (a project token's are its organization's owners and admins), however many
    a report held; `reporter` names who found them, when known (the audit's reason).
    Background work (tokens.tasks.revoke_reported), never the request's."""
    if not digests:
        return 0
    reported = list(Token.objects.filter(digest__in=digests))  # in any state: see below
    for _, found in credentials_reported.send(sender=Token, digests=digests):
        reported.extend(cast(list[Token], found))
    now = timezone.now()
    tokens = (
        Token.objects.filter(working(now), pk__in=[t.pk for t in reported])
        .select_related("owner", "organization", "project")
        .order_by("id")
    )
    # A leaked token that rotated itself handed its successor to whoever held it: the
    # successors it made that way go with it, even once the leaked one has expired.
    minted = Token.objects.filter(working(now), pk__in=_rotated_from(reported)).select_related(
        "owner", "organization", "project"
    )
    revoked = [
        token
        for token, why in [*((t, reporter) for t in tokens), *((t, MINTED_WHY) for t in minted)]
        if _revoke(token=token, by=None, label="reported leaked", reason=why, ip=ip, notify=False)
    ]
    emails.tokens_reported_leaked(tokens=revoked, why=LEAKED_WHY)  # each revocation has committed
    return len(revoked)


MINTED_WHY = "made by a reported token rotating itself"


def _rotated_from(tokens: list[Token]) -> set[int]:
    """The ids of the successors these tokens made by rotating themselves, and theirs in turn."""
    found: set[int] = set()
    step = {t.replaced_by_id for t in tokens if t.rotated_itself and t.replaced_by_id}
    while step - found:
        found |= step
        following = Token.objects.filter(pk__in=step, rotated_itself=True)
        step = set(following.exclude(replaced_by=None).values_list("replaced_by_id", flat=True))
    return found


def token_revoke_many(
    *, tokens: Iterable[Token], label: str, reason: str = "", why: str | None = None
) -> int:
    """Revoke these tokens for a reason nobody typed by hand (a policy, a job); each is
    audited with `label` and `reason`, and whoever hears about it is emailed `why`."""
    return sum(
        _revoke(token=token, by=None, label=label, reason=reason, why=why) for token in tokens
    )
