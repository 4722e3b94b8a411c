"""With the keyboard only: create, copy, revoke with Enter and Escape, where the focus goes after
each step. And what a person sees when the server fails, the network drops or the session ends."""

import re

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import PASSWORD, make_org, make_token, make_user

from .conftest import api_me, expect_clipboard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in_page(page):
    user = make_user(email="ada@example.com")
    make_org(name="Acme", members={user: Role.OWNER})
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/settings/developer/")
    page.user = user
    return page


def active_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_create_copy_and_revoke_with_the_keyboard_alone(signed_in_page, live_server):
    page = signed_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("link", name="Generate new token").focus()
    page.keyboard.press("Enter")
    name = page.get_by_label("Name")
    name.focus()
    page.keyboard.type("Keyboard script")
    page.get_by_role("button", name="Generate token").focus()
    page.keyboard.press("Enter")

    panel = page.locator("#new-token-panel")
    expect(panel).to_be_focused()
    secret = page.locator("#new-token-value").input_value()
    expect(page.locator("#live-region")).to_contain_text("Copy it now")

    # Tab from the panel reaches the secret, then its Copy button.
    page.keyboard.press("Tab")
    expect(page.locator("#new-token-value")).to_be_focused()
    page.keyboard.press("Tab")
    copy = page.get_by_role("button", name="Copy", exact=True)
    expect(copy).to_be_focused()
    page.keyboard.press("Enter")
    expect_clipboard(page, secret)
    expect(page.locator("#live-region")).to_have_text("Copied to the clipboard.")

    row = page.locator("tr.is-new")
    revoke = row.get_by_role("link", name="Revoke Keyboard script")
    revoke.focus()
    page.keyboard.press("Enter")
    confirmation = page.locator("tr.confirming .confirm")
    expect(confirmation).to_be_focused()

    page.keyboard.press("Escape")  # Escape cancels and the focus goes back to that row's Revoke
    expect(page.locator("tr.confirming")).to_have_count(0)
    expect(page.get_by_role("link", name="Revoke Keyboard script")).to_be_focused()

    page.keyboard.press("Enter")
    expect(confirmation).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Revoke token")).to_be_focused()
    page.keyboard.press("Enter")
    notice = page.locator("tr.row-notice p")
    expect(notice).to_be_focused()
    expect(notice).to_have_text(re.compile("^Revoked “Keyboard script”"))
    assert api_me(live_server.url, secret) == 401
    assert page.console_errors == []


def test_a_server_error_on_create_is_said_and_the_input_is_kept(signed_in_page):
    page = signed_in_page
    page.goto("/settings/developer/new")
    page.route("**/settings/developer/new", lambda route: route.fulfill(status=500, body="boom")
               if route.request.method == "POST" else route.continue_())  # fmt: skip
    page.get_by_label("Name").fill("Deploy bot")
    page.get_by_label("Read & write").check()
    page.get_by_role("button", name="Generate token").click()
    expect(page.locator("#live-region")).to_have_text(
        "Couldn’t create the token; nothing was saved and your choices are still here. Try again."
    )
    expect(page.get_by_label("Name")).to_have_value("Deploy bot")
    expect(page.get_by_label("Read & write")).to_be_checked()
    expect(page.locator("#new-token-panel")).to_have_count(0)
    expect(page.get_by_role("button", name="Generate token")).to_be_enabled()


def test_a_dropped_connection_on_revoke_is_said_and_nothing_changes(signed_in_page):
    page = signed_in_page
    organization = page.user.memberships.get().organization
    token, _ = make_token(owner=page.user, organization=organization, name="Flaky")
    page.reload()
    page.get_by_role("link", name="Revoke Flaky").click()
    page.route("**/revoke/", lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())  # fmt: skip
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator("#live-region")).to_have_text(
        "Couldn’t revoke “Flaky”; nothing changed. Try again."
    )
    expect(page.get_by_role("button", name="Revoke token")).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_ended_session_sends_the_page_to_sign_in_instead_of_into_a_row(signed_in_page):
    page = signed_in_page
    make_token(owner=page.user, organization=page.user.memberships.get().organization, name="CI")
    page.reload()
    page.context.clear_cookies()  # signed out in another tab, or the session expired
    page.get_by_role("link", name="Revoke CI").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fsettings%2Fdeveloper%2F$"))
    expect(page.locator("tr")).to_have_count(0)
