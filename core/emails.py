"""Every email Tessera sends, its own and allauth's, is rendered here from templates:
`<prefix>_subject.txt`, `<prefix>_message.txt` and, when there is one, `<prefix>_message.html`;
without one, the text is set in the HTML layout (email/base_message.html), so every email has
both parts and looks the same. Links start at `site_url()`: the address the request came to,
or SITE_URL for what is sent outside a request (reminders, jobs, the shell).

Rendering happens where the email is asked for; sending never does (rule 15): `send` and
`enqueue` hand the rendered message to a task (core.tasks.send_email) once the transaction
commits, so a request answers in the same time whether or not it emails, and a mail server that
is down delays the email instead of failing the request.
"""

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import partial
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from .text import one_line

logger = logging.getLogger(__name__)

PRODUCT = "Tessera"
# The request being answered, if any (core.middleware.RequestIdMiddleware sets it).
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
# Where the request that asked for the email came to, while it is sent after that request.
_asked_from: ContextVar[str | None] = ContextVar("asked_from", default=None)


def site_url() -> str:
    """Where people reach Tessera, without a trailing slash."""
    if (asked_from := _asked_from.get()) is not None:
        return asked_from
    request = current_request.get()
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.SITE_URL.rstrip("/")


def send_on_commit(send: Callable[[], object]) -> None:
    """Call `send` once the current transaction commits (at once outside one): an email about
    a change that did not happen is never sent. Its links still lead where the request that
    asked for it came to."""
    asked_from = site_url()

    def deferred() -> None:
        reset = _asked_from.set(asked_from)
        try:
            send()
        except Exception:
            # The change is committed: a mail server that refuses, or an address it cannot take,
            # must not turn it into an error page (a new token's secret would be lost with it).
            logger.exception("An email about a committed change could not be sent")
        finally:
            _asked_from.reset(reset)

    transaction.on_commit(deferred)


def render(
    prefix: str, context: dict[str, Any], *, subject_prefix: str = ""
) -> EmailMultiAlternatives:
    """The email of `prefix`, rendered with `context` (plus `product` and `site_url`)."""
    context = {"product": PRODUCT, "site_url": site_url(), **context}
    subject = one_line(render_to_string(f"{prefix}_subject.txt", context)).strip()
    text = render_to_string(f"{prefix}_message.txt", context).strip() + "\n"
    try:
        html = render_to_string(f"{prefix}_message.html", context)
    except TemplateDoesNotExist:
        html = render_to_string("email/base_message.html", {**context, "text": text})
    message = EmailMultiAlternatives(subject=subject_prefix + subject, body=text)
    message.attach_alternative(html, "text/html")
    return message


def send(
    prefix: str, context: dict[str, Any], to: Iterable[str], *, key: str = "", **options: Any
) -> bool:
    """Render the email of `prefix` for `to` and enqueue it (`enqueue`); whether there was anyone
    to send it to. `key` names it for idempotency when the caller has a natural one."""
    recipients = list(to)
    if not recipients:
        return False
    message = render(prefix, context, **options)
    message.to = recipients
    enqueue(message, key=key)
    return True


def enqueue(message: EmailMessage, *, key: str = "") -> None:
    """Send `message` from a background task once the current transaction commits (at once
    outside one). The task keeps what a queue may keep: the rendered subject, text and HTML,
    the addresses and headers, never a secret. `key` (a fresh one by default) is what stops a
    retried task from sending it twice."""
    from .tasks import send_email  # models: core.middleware imports this module before apps load

    alternatives = getattr(message, "alternatives", [])
    html = next((str(body) for body, kind in alternatives if kind == "text/html"), "")
    later = partial(
        send_email.enqueue,
        key=key or uuid4().hex,
        subject=str(message.subject),
        text=str(message.body),
        html=html,
        to=list(message.to),
        from_email=message.from_email,
        headers=dict(message.extra_headers),
    )
    transaction.on_commit(later, robust=True)
