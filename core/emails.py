"""Every email Tessera sends, its own and allauth's, is rendered here from templates:
`<prefix>_subject.txt`, `<prefix>_message.txt` and, when there is one, `<prefix>_message.html`;
without one, the text is set in the HTML layout (email/base_message.html), so every email has
both parts and looks the same. Links start at `site_url()`: the address the request came to,
or SITE_URL for what is sent outside a request (reminders, jobs, the shell).
"""

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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


def send(prefix: str, context: dict[str, Any], to: Iterable[str], **options: Any) -> bool:
    """Render and send one email to `to` (nobody: nothing is sent); whether it went."""
    recipients = list(to)
    if not recipients:
        return False
    message = render(prefix, context, **options)
    message.to = recipients
    message.send()
    return True
