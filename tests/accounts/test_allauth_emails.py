"""Every email allauth can send, and its verification page, are Tessera's own."""

import time
from pathlib import Path

import allauth
import pytest
import time_machine
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core import mail
from django.template.loader import get_template
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"
# Every prefix allauth ships an email for, but social accounts, which Tessera does not run.
PREFIXES = sorted(
    str(p.relative_to(ALLAUTH_TEMPLATES)).removesuffix("_subject.txt")
    for p in ALLAUTH_TEMPLATES.glob("*/email/*_subject.txt")
    if not str(p).startswith(str(ALLAUTH_TEMPLATES / "socialaccount"))
)


def test_allauth_ships_the_emails_we_know_of():
    assert "account/email/email_confirmation" in PREFIXES
    assert "account/email/login_code" in PREFIXES
    assert "mfa/email/webauthn_added" in PREFIXES


@pytest.mark.parametrize("prefix", PREFIXES)
def test_each_allauth_email_is_ours_through_the_one_layout(prefix):
    for part in ("subject", "message"):
        origin = Path(get_template(f"{prefix}_{part}.txt").origin.name)
        assert origin.is_relative_to(settings.BASE_DIR / "templates"), origin
    request = RequestFactory().get("/")
    request.user = None
    context = {"email": "ada@example.com", "code": "ABC123", "user": None, "request": request}
    message = get_adapter(request).render_mail(prefix, "ada@example.com", context)

    assert message.subject.startswith("Tessera: ")
    assert "Hello from" not in message.body and "Thank you for using" not in message.body
    assert "\n— Tessera\n" in message.body  # the sign-off of base_message.txt
    html = message.alternatives[0].content
    assert "Tessera" in html and "<html" in html


def test_the_verification_page_resends_a_link_at_most_every_3_minutes(client):
    client.post(
        "/accounts/signup/",
        {"email": "nia@example.com", "password1": "correct horse battery staple"},
    )
    page = client.get("/accounts/confirm-email/")
    assert b"Resend the link" in page.content
    assert len(mail.outbox) == 1

    again = client.post("/accounts/confirm-email/resend/", follow=True)
    assert len(mail.outbox) == 1  # the first link is less than 3 minutes old
    assert b"A link went out less than 3 minutes ago" in again.content

    with time_machine.travel(time.time() + 4 * 60):
        later = client.post("/accounts/confirm-email/resend/", follow=True)
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["nia@example.com"]
    assert b"We sent a confirmation link to nia@example.com" in later.content


def test_resend_without_a_waiting_sign_up_asks_to_sign_in(client):
    response = client.post("/accounts/confirm-email/resend/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
