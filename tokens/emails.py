"""Every email about a token, written in one place.

None of them ever holds a secret: they take Token rows, which have only the display prefix.
Personal tokens and agent connections write to their owner; a project token has no owner, so
what concerns it goes to its organization's owners and admins.
"""

import unicodedata
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .models import ExpiryReminder, Token
from .permissions import describe_access
from .selectors import organization_overseer_emails


def one_line(text: str) -> str:
    """Text safe for an email subject: no line breaks or other control characters."""
    return "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)


def when(moment: datetime | None, never: str = "never") -> str:
    return timezone.localtime(moment).strftime("%b %-d, %Y %H:%M %Z") if moment else never


def noun(token: Token) -> str:
    return {
        Token.Kind.AGENT: "agent connection",
        Token.Kind.PROJECT: "project token",
    }.get(token.kind, "personal access token")


def _the(token: Token) -> str:
    """ "your" to a token's owner; "the" to the overseers of a project token."""
    return "the" if token.kind == Token.Kind.PROJECT else "your"


def token_settings_url(token: Token) -> str:
    """The page where the token can be seen, rotated and revoked (PRODUCT.md's URL map)."""
    if token.kind == Token.Kind.AGENT:
        path = f"/settings/agents/{token.pk}/"
    elif token.kind == Token.Kind.PROJECT:
        path = f"/orgs/{token.organization.slug}/projects/{token.project_id}/tokens/"
    else:
        path = f"/settings/developer/tokens/{token.pk}/"
    return settings.SITE_URL.rstrip("/") + path


def recipients(token: Token) -> list[str]:
    """Who hears about a token: its owner, or for a project token the organization's owners
    and admins."""
    if token.kind == Token.Kind.PROJECT:
        return organization_overseer_emails(organization_id=token.organization_id)
    return [token.owner.email] if token.owner is not None and token.owner.is_active else []


def _send(subject: str, body: str, to: Iterable[str]) -> None:
    to = list(to)
    if to:
        send_mail(subject=one_line(subject), message=body, from_email=None, recipient_list=to)


def _facts(token: Token) -> str:
    where = token.organization.name
    if token.kind == Token.Kind.PROJECT and token.project is not None:
        where = f"{token.organization.name} / {token.project.name}"
    return (
        f"Name: {token.name}\n"
        f"Token: {token.prefix}… (the rest is never shown again)\n"
        f"Organization: {where}\n"
    )


def token_created(*, token: Token, ip: str | None, user_agent: str) -> None:
    """Rule 11: a stolen session cannot mint a credential silently. To the owner, or for a
    project token to whoever made it."""
    person = token.created_by if token.kind == Token.Kind.PROJECT else token.owner
    if person is None:
        return
    what = noun(token)
    origin = f"{ip or 'an unknown address'}" + (f" ({user_agent[:200]})" if user_agent else "")
    account = "your Tessera account" if token.owner is not None else "Tessera"
    _send(
        f"New {what} “{token.name}” on {account}",
        f"A {what} was created on {account}.\n\n"
        f"{_facts(token)}"
        f"Access: {describe_access(token.scopes)}\n"
        f"Expires: {when(token.expires_at)}\n"
        f"Created from: {origin}\n\n"
        "If this was not you, revoke it now and change your password:\n"
        f"{token_settings_url(token)}\n",
        [person.email],
    )


def token_revoked(*, token: Token, by, why: str | None = None) -> None:
    """To the owner (or a project token's overseers) when someone else, the shell, a leak
    report or a policy revoked it; `why` explains a revocation nobody made by hand."""
    what = noun(token)
    if why:
        opening = (
            f"Tessera revoked {_the(token)} {what} “{token.name}” ({token.prefix}…) in "
            f"{token.organization.name}: {why}."
        )
    else:
        who = f"{by.email}, an admin of {token.organization.name}," if by else "An operator"
        opening = (
            f"{who} revoked {_the(token)} {what} “{token.name}” ({token.prefix}…) in "
            f"{token.organization.name}."
        )
    _send(
        f"{_the(token).capitalize()} {what} “{token.name}” was revoked",
        f"{opening} Anything using it is refused from now on.\n\n"
        "If you still need access, create a new one from your settings.\n",
        recipients(token),
    )


def token_rotated(*, token: Token, successor: Token, by) -> None:
    """To the owner when someone else (an operator at the shell) rotated their token."""
    what = noun(token)
    who = f"{by.email}, an admin of {token.organization.name}," if by else "An operator"
    stops = (
        "It stopped working at once."
        if token.expires_at is None or token.expires_at <= timezone.now()
        else f"It keeps working until {when(token.expires_at)}, then stops."
    )
    _send(
        f"Your {what} “{token.name}” was rotated",
        f"{who} rotated your {what} “{token.name}” ({token.prefix}…) in "
        f"{token.organization.name}. {stops}\n\n"
        f"Its replacement is {successor.prefix}…, with the same name, access and settings; its "
        "secret went to whoever rotated it. If you did not ask for this, revoke the "
        f"replacement now:\n{token_settings_url(successor)}\n",
        recipients(token),
    )


REMINDER_WORDS = {
    ExpiryReminder.Kind.WEEK: "expires within 7 days",
    ExpiryReminder.Kind.DAY: "expires within a day",
    ExpiryReminder.Kind.EXPIRED: "has expired",
}


def token_expiry_reminder(*, token: Token, kind: str, to: list[str]) -> None:
    """Rule 13: the owner hears before a token expires, and when it has, with where to rotate
    it (a new secret, same settings)."""
    what = noun(token)
    words = REMINDER_WORDS[kind]
    action = (
        "Rotate it to renew it: the new token keeps its name, access and settings."
        if kind == ExpiryReminder.Kind.EXPIRED
        else "Rotate it before then to keep whatever uses it working: the new token keeps its "
        "name, access and settings, and the old one can keep working for a while."
    )
    _send(
        f"{_the(token).capitalize()} {what} “{token.name}” {words}",
        f"{_the(token).capitalize()} {what} “{token.name}” {words}.\n\n"
        f"{_facts(token)}"
        f"Expires: {when(token.expires_at)}\n"
        f"Last used: {when(token.last_used_at)}\n\n"
        f"{action}\n{token_settings_url(token)}\n\n"
        "To stop these reminders, turn them off in your account settings.\n",
        to,
    )


def tokens_capped(*, to: str, tokens: list[Token], organization) -> None:
    """One email per person listing their tokens that a policy shortened."""
    lines = "\n".join(
        f"- “{token.name}” ({token.prefix}…): now expires {when(token.expires_at)}"
        f"\n  {token_settings_url(token)}"
        for token in tokens
    )
    _send(
        f"{organization.name} shortened {len(tokens)} of your tokens",
        f"{organization.name}’s token policy now limits how long tokens last, so these expire "
        f"sooner than they did:\n\n{lines}\n\n"
        "Rotate a token before it expires to keep whatever uses it working.\n",
        [to],
    )
