"""Every email goes through one renderer (core.emails): subject, text and HTML from templates,
in Tessera's words, linking to where the person reaches Tessera."""

import re

from django.core import mail
from django.test import TestCase

from tests.factories import make_token, sign_in, token_form
from tokens.services import token_revoke


def html_of(message) -> str:
    (html, kind), *_ = message.alternatives
    assert kind == "text/html"
    return html


def test_an_email_sent_while_answering_a_request_links_to_that_requests_address(
    client, user, org, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://somewhere.else.example"
    settings.ALLOWED_HOSTS = ["tessera.test"]
    sign_in(client, user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/settings/developer/new", token_form(org), HTTP_HOST="tessera.test:8443")
    (message,) = mail.outbox
    assert re.search(r"http://tessera\.test:8443/settings/developer/tokens/\d+/", message.body)
    assert "somewhere.else" not in message.body


def test_an_email_sent_outside_a_request_links_to_the_site_url(user, org, settings):
    settings.SITE_URL = "https://tessera.example.com/"
    token, _ = make_token(owner=user, organization=org)
    with TestCase.captureOnCommitCallbacks(execute=True):
        token_revoke(token=token, by=None)  # the shell
    (message,) = mail.outbox
    assert f"https://tessera.example.com/settings/developer/tokens/{token.pk}/" in message.body


def test_every_email_has_an_html_part_that_escapes_what_people_typed(user, org):
    token, _ = make_token(owner=user, organization=org, name="<b>Build</b> & deploy")
    with TestCase.captureOnCommitCallbacks(execute=True):
        token_revoke(token=token, by=None)
    (message,) = mail.outbox
    assert "“<b>Build</b> & deploy”" in message.body  # the text part as typed
    html = html_of(message)
    assert "&lt;b&gt;Build&lt;/b&gt; &amp; deploy" in html and "<b>Build</b>" not in html
    assert f'href="http://localhost:8000/settings/developer/tokens/{token.pk}/"' in html


def test_allauths_emails_speak_as_tessera_with_the_real_address(client, db, settings):
    settings.ALLOWED_HOSTS = ["tessera.test"]
    client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "a long passphrase 9"},
        HTTP_HOST="tessera.test",
    )
    (message,) = mail.outbox
    assert message.subject == "Tessera: Confirm your email address to finish signing up"
    assert "Hello from" not in message.body and "localhost:8000" not in message.body
    assert "http://tessera.test/accounts/confirm-email/" in message.body
    assert message.body.rstrip().endswith("— Tessera\nhttp://tessera.test")
    assert "http://tessera.test/accounts/confirm-email/" in html_of(message)


def test_an_email_that_fails_after_its_change_committed_is_logged_not_raised(
    db, caplog, django_capture_on_commit_callbacks
):
    from core.emails import send_on_commit

    def refused():
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_on_commit(refused)  # runs at the commit, which must not raise
    assert len(callbacks) == 1
    assert "could not be sent" in caplog.text
