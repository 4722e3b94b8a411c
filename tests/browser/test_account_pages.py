"""Every allauth page a person meets, as Tessera draws it: at 1280 and 390 px wide, with its
heading, no sideways scrolling and no console errors, and a screenshot of each."""

import re

import pyotp
import pytest
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user
from tests.factories import sign_in as force_sign_in

from .conftest import add_virtual_authenticator, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)
NEW_PASSWORD = "a brand new passphrase"
# Long on purpose: addresses must wrap or shorten, never push the page sideways.
NIA = "nia.okafor-whitfield@tessera-example-labs.com"
THROTTLED = "Failed to load resource: the server responded with a status of 429 (Too Many Requests)"


def looks_right(page, shot, name: str, heading: str, *, console: tuple[str, ...] = ()) -> None:
    """The page at each width: its heading shows, nothing scrolls sideways; a screenshot of each.
    The console holds no errors but the `console` ones expected (a 429 status is logged as one)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        # Polls until the layout at this width fits; times out (and fails) if it never does.
        page.wait_for_function("w => document.documentElement.scrollWidth <= w", arg=width)
        shot(page, f"acct-{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    assert page.console_errors == list(console)


def emailed_link(to: str, path: str) -> str:
    """The path of the newest link to `path` emailed to `to` (the live server shares the outbox)."""
    message = [m for m in mail.outbox if m.to == [to]][-1]
    return re.search(rf"https?://[^/\s]+({re.escape(path)}\S+/)", message.body).group(1)


def test_signed_out_pages(page, shot, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "1/5m/key"}
    make_user(email="ada@example.com")

    page.goto("/accounts/login/")
    looks_right(page, shot, "sign-in", "Sign in to Tessera")
    page.get_by_role("link", name="Create an account").click()
    looks_right(page, shot, "sign-up", "Create your Tessera account")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    looks_right(page, shot, "sign-up-errors", "Create your Tessera account")

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    looks_right(page, shot, "reset", "Reset your password")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Send reset link").click()
    looks_right(page, shot, "reset-sent", "Check your email")

    page.goto(emailed_link("ada@example.com", "/accounts/password/reset/key/"))
    looks_right(page, shot, "reset-new-password", "Choose a new password")
    expect(page.get_by_text("At least 8 characters; not a common password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    looks_right(page, shot, "reset-done", "Password changed")

    page.goto("/accounts/password/reset/key/1-set-password/")
    looks_right(page, shot, "reset-bad-link", "This reset link no longer works")
    page.goto("/accounts/confirm-email/not-a-key/")
    looks_right(page, shot, "confirm-bad-link", "This link no longer works")
    page.goto("/accounts/inactive/")
    looks_right(page, shot, "inactive", "This account is deactivated")

    sign_in(page, "ada@example.com", "not the password", lands_on=None)
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    sign_in(page, "ada@example.com", "not the password either", lands_on=None)
    looks_right(page, shot, "too-many-attempts", "Too many attempts", console=(THROTTLED,))


def test_sign_up_confirm_then_every_account_page(page, shot, settings, browser, live_server):
    # A code read at the very end of its 30-second step still counts when the server checks it.
    settings.MFA_TOTP_TOLERANCE = 1
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(NIA)
    page.get_by_label("Your name").fill("Nia")
    page.get_by_label("Organization").fill("Nia Labs")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    looks_right(page, shot, "verification-sent", "Verify your email address")

    page.goto(emailed_link(NIA, "/accounts/confirm-email/"))
    looks_right(page, shot, "confirm-email", "Confirm your email address")
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_url("**/settings/developer/")

    # Password, email, sessions.
    page.goto("/settings/security/")
    page.get_by_role("link", name="Change password").click()
    looks_right(page, shot, "password-change", "Change password")
    page.get_by_label("Current password").fill("not it")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Please type your current password.", exact=True)).to_be_visible()
    looks_right(page, shot, "password-change-errors", "Change password")

    page.goto("/accounts/email/")
    looks_right(page, shot, "email", "Email address")
    page.get_by_label("New address").fill("nia.new-address-for-work@tessera-example-labs.com")
    page.get_by_role("button", name="Change email").click()
    # Signing in by the emailed link is not recent enough for a security change (sudo mode).
    looks_right(page, shot, "reauth-password", "Confirm it’s you")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Changing to")).to_be_visible()
    looks_right(page, shot, "email-pending", "Email address")
    page.get_by_role("button", name="Cancel change").click()
    expect(page.get_by_text("Changing to")).to_have_count(0)

    # A second browser signed in: listed, then signed out from this one.
    laptop = browser.new_context(base_url=live_server.url)
    laptop_page = laptop.new_page()
    sign_in(laptop_page, NIA)
    laptop_page.wait_for_url("**/settings/developer/")
    page.goto("/accounts/sessions/")
    expect(page.locator(".session-list > li")).to_have_count(2)
    looks_right(page, shot, "sessions", "Sessions")
    page.get_by_role("button", name="Sign out all other sessions").click()
    expect(page.get_by_text("This is your only session.")).to_be_visible()
    laptop.close()

    # Two factors: nothing yet, then an authenticator app and its recovery codes.
    page.goto("/accounts/2fa/")
    looks_right(page, shot, "2fa-off", "Two-factor authentication")
    page.goto("/accounts/2fa/webauthn/")
    looks_right(page, shot, "passkeys-empty", "Passkeys and security keys")

    page.goto("/accounts/2fa/")
    page.get_by_role("link", name="Set up").click()
    secret_box = page.locator("#totp-secret")
    expect(secret_box).to_have_text(re.compile(r"^[A-Z2-7]{16,}$"))
    looks_right(page, shot, "totp-activate", "Set up an authenticator app")
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret_box.inner_text()).now())
    page.get_by_role("button", name="Activate").click()
    codes = page.locator("#recovery_codes")
    expect(codes).to_have_value(re.compile(r"^\w+(\n\w+){9}$"))
    recovery_code = codes.input_value().split()[0]
    looks_right(page, shot, "recovery-codes", "Recovery codes")
    page.get_by_role("link", name="Generate new codes").click()
    looks_right(page, shot, "recovery-codes-generate", "Generate new recovery codes?")

    # Passkeys, through Chromium's virtual authenticator.
    add_virtual_authenticator(page)
    page.goto("/accounts/2fa/webauthn/add/")
    looks_right(page, shot, "passkey-add", "Add a passkey")
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_label("Use it to sign in without a password (passkey)").check()
    page.get_by_role("button", name="Add passkey").click()
    looks_right(page, shot, "2fa-on", "Two-factor authentication")
    # The same device again: the browser refuses, and the page says so (static/js/app.js).
    page.goto("/accounts/2fa/webauthn/add/")
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("already has a passkey")
    page.goto("/accounts/2fa/")
    page.get_by_role("link", name="Manage").click()
    expect(page.locator(".key-name")).to_have_text("Work laptop")
    looks_right(page, shot, "passkeys", "Passkeys and security keys")
    page.get_by_role("link", name="Rename Work laptop").click()
    looks_right(page, shot, "passkey-rename", "Rename passkey")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Remove Work laptop").click()
    looks_right(page, shot, "passkey-remove", "Remove “Work laptop”?")

    page.goto("/accounts/2fa/totp/deactivate/")
    looks_right(page, shot, "totp-deactivate", "Turn off the authenticator app?")

    # Sudo mode, by each method.
    for name, path in [
        ("reauth-code", "/accounts/2fa/reauthenticate/"),
        ("reauth-passkey", "/accounts/2fa/webauthn/reauthenticate/"),
    ]:
        page.goto(f"{path}?next=/settings/security/")
        looks_right(page, shot, name, "Confirm it’s you")

    # Sign out; in again with a password and a recovery code, then with the passkey alone.
    page.goto("/accounts/logout/")
    looks_right(page, shot, "sign-out", "Sign out of Tessera?")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    sign_in(page, NIA, lands_on=None)
    looks_right(page, shot, "second-factor", "Enter your second factor")
    expect(page.get_by_role("button", name="Use a passkey")).to_be_visible()
    page.get_by_label("Code").fill(recovery_code)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/settings/developer/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Signed out. Your tokens")).to_be_visible()
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url("**/settings/developer/")
    assert page.console_errors == []


def test_set_password_page(page, shot, live_server):
    user = make_user(email="ada@example.com")
    user.set_unusable_password()
    user.save()
    client = Client()
    force_sign_in(client, user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/accounts/password/set/")
    looks_right(page, shot, "password-set", "Set a password")
