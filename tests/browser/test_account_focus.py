"""Account pages start where the typing starts, and an invalid submit moves the focus to the
error summary, which names each problem (as the token forms do)."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def summary(page):
    return page.locator(".error-summary")


def expect_summary_focused(page, text: str) -> None:
    expect(summary(page)).to_be_focused()
    expect(summary(page)).to_contain_text(text)


def test_sign_in_starts_in_email_and_a_wrong_password_focuses_the_summary(page):
    make_user(email="ada@example.com")
    page.goto("/accounts/login/")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("ada@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_summary_focused(page, "not correct")


def test_sign_up_errors_are_summarised_with_links_to_their_fields(page):
    page.goto("/accounts/signup/")
    page.get_by_role("button", name="Create account").click()
    expect_summary_focused(page, "Fix these 2 problems to continue")
    summary(page).get_by_role("link", name="Email: This field is required.").click()
    expect(page.get_by_label("Email")).to_be_focused()


def test_reauthentication_starts_in_the_password(page):
    make_user(email="ada@example.com")
    sign_in(page, "ada@example.com")
    page.goto("/accounts/reauthenticate/")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("not it")
    page.keyboard.press("Enter")
    expect_summary_focused(page, "Fix this problem to continue")


def test_the_second_factor_step_starts_in_the_code(page):
    user = make_user(email="ada@example.com")
    TOTP.activate(user, generate_totp_secret())
    sign_in(page, "ada@example.com", lands_on="/accounts/2fa/authenticate/")
    code = page.get_by_label("Code")
    expect(code).to_be_focused()
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect_summary_focused(page, "Fix this problem to continue")


def test_totp_set_up_starts_in_the_code(page):
    make_user(email="ada@example.com")
    sign_in(page, "ada@example.com")
    page.goto("/accounts/2fa/totp/activate/")
    expect(page.get_by_label("Authenticator code")).to_be_focused()
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect_summary_focused(page, "Authenticator code")


def test_password_change_errors_focus_the_summary(page):
    make_user(email="ada@example.com")
    sign_in(page, "ada@example.com")
    page.goto("/accounts/password/change/")
    page.get_by_label("Current password").fill("not it")
    page.get_by_label("New password", exact=True).fill(PASSWORD + " 2")
    page.get_by_label("Confirm new password").fill(PASSWORD + " 2")
    page.get_by_role("button", name="Change password").click()
    expect_summary_focused(page, "Current password: Please type your current password.")
