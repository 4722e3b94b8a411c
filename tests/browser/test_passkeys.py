"""A passkey added as the form stands signs in by itself; one added as a second factor only
says so where keys are listed. `make run` serves a name, which passkeys need."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.factories import make_user

from .conftest import add_virtual_authenticator, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_passkey(page, name: str, *, sign_in_capable: bool | None = None) -> None:
    page.goto("/settings/security/")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill(name)
    if sign_in_capable is False:
        page.get_by_label(re.compile("without a password")).uncheck()
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_text("Passkey added.")).to_be_visible()


def test_a_passkey_added_as_the_form_stands_signs_in_by_itself(page):
    make_user(email="ada@example.com")
    add_virtual_authenticator(page)
    sign_in(page, "ada@example.com")
    page.goto("/accounts/2fa/webauthn/add/")
    expect(page.get_by_label(re.compile("without a password"))).to_be_checked()
    add_passkey(page, "Laptop")

    page.goto("/settings/security/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/settings/developer/$"))


def test_a_second_factor_only_key_says_why_it_cannot_sign_in(page):
    make_user(email="ada@example.com")
    add_virtual_authenticator(page)
    sign_in(page, "ada@example.com")
    add_passkey(page, "YubiKey", sign_in_capable=False)
    page.goto("/settings/security/")
    expect(page.get_by_text("second factor only: it cannot sign you in by itself")).to_be_visible()
    page.goto("/accounts/2fa/webauthn/")
    expect(page.get_by_text("so it cannot sign you in by itself")).to_be_visible()


def test_make_run_serves_localhost_which_passkeys_accept():
    commands = subprocess.run(
        ["make", "-n", "run", "PORT=18533"], capture_output=True, text=True, check=True
    ).stdout
    assert "runserver localhost:18533" in commands
