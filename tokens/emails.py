"""Every email about a token. The words are templates (templates/tokens/email/), rendered and
sent by core.emails; this module only says who gets which, with what.

None of them ever holds a secret: they take Token rows, which have only the display prefix.
Who hears is tokens.selectors.token_recipients: a person's token writes to its owner, a
project token to its organization's owners and admins.
"""

from typing import Any

from core import emails
from orgs.models import Organization

from .models import ExpiryReminder, Token
from .permissions import describe_access
from .selectors import token_recipients

NOUNS = {
    Token.Kind.PERSONAL: "personal access token",
    Token.Kind.AGENT: "agent connection",
    Token.Kind.PROJECT: "project token",
}
REMINDER_WORDS = {
    ExpiryReminder.Kind.WEEK: "expires within 7 days",
    ExpiryReminder.Kind.DAY: "expires within a day",
    ExpiryReminder.Kind.EXPIRED: "has expired",
}


def _about(token: Token) -> dict[str, Any]:
    """What every token email says of its token, and the page where it can be acted on."""
    where = token.organization.name
    if token.kind == Token.Kind.PROJECT and token.project is not None:
        where = f"{token.organization.name} / {token.project.name}"
    return {
        "token": token,
        "noun": NOUNS[Token.Kind(token.kind)],
        # "your" to a token's owner; "the" to the overseers of a project token.
        "whose": "the" if token.kind == Token.Kind.PROJECT else "your",
        "where": where,
        "url": emails.site_url() + token.get_absolute_url(),
    }


def _to_each(prefix: str, context: dict[str, Any], to: list[str]) -> None:
    """One email to each address, once: nobody reads who else was told, or gets it twice."""
    for address in dict.fromkeys(to):
        emails.send(prefix, context, [address])


def token_created(*, token: Token, ip: str | None, user_agent: str) -> None:
    """Rule 11: a stolen session cannot mint a credential silently. To the owner; for a
    project token to whoever made it and every owner and admin of its organization."""
    if token.kind == Token.Kind.PROJECT:
        creator = token.created_by
        to = ([creator.email] if creator is not None else []) + token_recipients(token)
    else:
        to = [token.owner.email] if token.owner is not None else []
    context = {
        **_about(token),
        "access": describe_access(token.scopes),
        "origin": (ip or "an unknown address") + (f" ({user_agent[:200]})" if user_agent else ""),
        "account": "your Tessera account" if token.owner is not None else "Tessera",
        "creator": token.created_by if token.kind == Token.Kind.PROJECT else None,
    }
    _to_each("tokens/email/created", context, to)


def token_revoked(*, token: Token, by: Any, why: str | None = None) -> None:
    """To the owner (or a project token's overseers) when someone else, the shell, a leak
    report or a policy revoked it; `why` explains a revocation nobody made by hand."""
    context = {**_about(token), "by": by, "why": why}
    emails.send("tokens/email/revoked", context, token_recipients(token))


def tokens_reported_leaked(*, tokens: list[Token], why: str) -> None:
    """One email to each person who hears about any of `tokens` (revoked together because one
    report named them), listing theirs: a report of a thousand tokens is not a thousand emails."""
    theirs: dict[str, list[Token]] = {}
    overseers: dict[int, list[str]] = {}  # a project token's recipients, per organization
    for token in tokens:
        if token.kind == Token.Kind.PROJECT:
            if token.organization_id not in overseers:
                overseers[token.organization_id] = token_recipients(token)
            recipients = overseers[token.organization_id]
        else:
            recipients = token_recipients(token)
        for email in recipients:
            theirs.setdefault(email, []).append(token)
    for email, listed in theirs.items():
        context = {"tokens": [_about(token) for token in listed], "why": why}
        emails.send("tokens/email/reported", context, [email])


def token_rotated(
    *, token: Token, successor: Token, by: Any, itself: bool = False, ip: str | None = None
) -> None:
    """To the owner when someone else (an operator at the shell) rotated their token, or when
    it rotated `itself` over the API; for a project token, to each owner and admin of its
    organization, whoever rotated it."""
    context = {
        **_about(successor),
        "old": token,
        "by": by,
        "itself": itself,
        "ip": ip,
        "in_overlap": token.is_active,
    }
    _to_each("tokens/email/rotated", context, token_recipients(token))


def token_expiry_reminder(*, token: Token, kind: str, to: list[str]) -> None:
    """Rule 13: the owner hears before a token expires, and when it has, with where to rotate
    it (a new secret, same settings)."""
    context = {
        **_about(token),
        "when": REMINDER_WORDS[ExpiryReminder.Kind(kind)],
        "expired": kind == ExpiryReminder.Kind.EXPIRED,
    }
    # One reminder of a kind per token, however often the job or its email task runs.
    key = f"expiry-reminder:{token.pk}:{kind}"
    emails.send("tokens/email/expiry_reminder", context, to, key=key)


def tokens_capped(*, to: str, tokens: list[Token], organization: Organization) -> None:
    """One email per person listing their tokens that a policy shortened."""
    context = {"organization": organization, "tokens": [_about(token) for token in tokens]}
    emails.send("tokens/email/capped", context, [to])
