"""Issue 8's walk, in Chromium: sign up, verify, two factors, a passkey, sudo mode, the email.

TOTP codes come from pyotp with the secret the page shows; the passkey lives in a CDP virtual
authenticator; the ten-minute re-authentication window is crossed by time travel (the live
server runs in this process), never by waiting.
"""

import re
import time

import pyotp
import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from tokens.models import Token

from .conftest import add_virtual_authenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "nia@example.com"
PASSWORD = "a long and private passphrase"


def link_in(message, path: str) -> str:
    return re.search(rf"http://[^/\s]+({path}\S+)", message.body).group(1)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_sign_up_verify_two_factors_passkey_and_sudo_mode(page, live_server, shot):
    add_virtual_authenticator(page)

    # Sign up, then confirm the emailed link.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Organization").fill("Nia Labs")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    page.goto(link_in(mail.outbox[-1], "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/settings/developer/$"))

    # Turn on an authenticator app with a code computed from the secret on the page. Signing in
    # through the emailed link proves the address, not the person: confirm the password first.
    page.goto("/settings/security/")
    page.get_by_role("link", name="Set up").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    secret_field = page.locator("#totp-secret")
    expect(secret_field).to_have_text(re.compile(r"^[A-Z2-7]{16,}$"))
    totp = pyotp.TOTP(secret_field.inner_text())
    page.get_by_label("Authenticator code").fill(totp.now())
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name=re.compile("Recovery codes", re.I))).to_be_visible()
    shot(page, "acct-walk-recovery-codes")

    # Sign out; sign in with the password and a code from the next period (codes are single-use).
    sign_out(page)
    with time_machine.travel(time.time() + 31, tick=True):
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_label("Code").fill(totp.now())
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page).to_have_url(re.compile(r"/settings/developer/$"))

        # Add a passkey to the virtual authenticator.
        page.goto("/settings/security/")
        page.get_by_role("link", name="Add a passkey").click()
        page.get_by_label("Name").fill("Laptop")
        page.get_by_label(re.compile("without a password")).check()
        page.get_by_role("button", name="Add passkey").click()
        expect(page.get_by_text("Passkey added.")).to_be_visible()
        shot(page, "acct-walk-passkey-added")

        # Sign out, then in with the passkey alone.
        sign_out(page)
        page.get_by_role("button", name="Sign in with a passkey").click()
        expect(page).to_have_url(re.compile(r"/settings/developer/$"))

    # Past the ten-minute window, minting a token asks to confirm it is you first.
    with time_machine.travel(time.time() + 11 * 60, tick=True):
        page.get_by_role("link", name="Generate new token").click()
        expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
        shot(page, "acct-walk-reauthenticate")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        expect(page).to_have_url(re.compile(r"/settings/developer/new$"))
        page.get_by_label("Name").fill("After sudo")
        page.get_by_role("button", name="Generate token").click()
        value = page.locator("#new-token-value")
        expect(value).to_have_value(re.compile(r"^tsr_pat_"))
        secret = value.input_value()

    token = Token.objects.get(name="After sudo")
    notices = [m for m in mail.outbox if "After sudo" in m.subject]
    assert len(notices) == 1 and notices[0].to == [EMAIL]
    assert token.prefix in notices[0].body and secret[8:] not in notices[0].body
    assert page.console_errors == []
