"""The one-time panel's example names the variable rather than printing the secret again; a
busy button keeps the focus through a failure and cannot be pressed twice; Reload or Back after
Rotate leads to the replacement instead of a 404."""

import re

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import make_org, make_token, make_user
from tokens.models import Token

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ada(db):
    user = make_user(email="ada@example.com")
    make_org(name="Acme", members={user: Role.OWNER})
    return user


def test_the_curl_example_uses_the_variable_and_the_secret_shows_once(page, live_server, ada):
    sign_in(page, ada.email)
    page.goto("/settings/developer/new")
    page.get_by_label("Name").fill("Try it")
    page.get_by_role("button", name="Generate token").click()
    expect(page.locator("#new-token-panel")).to_be_focused()
    secret = page.locator("#new-token-value").input_value()
    prefix = Token.objects.get(name="Try it").prefix
    example = page.get_by_label("Example request")
    expect(example).to_have_text(
        f"export TESSERA_TOKEN={prefix}…   # the token above\n"
        f'curl -H "Authorization: Bearer $TESSERA_TOKEN" {live_server.url}/api/v1/me'
    )
    assert page.content().count(secret) == 1  # in the box to copy, nowhere else
    assert page.console_errors == []


def test_a_failed_revoke_keeps_the_focus_on_its_button_and_a_double_press_sends_once(
    page, live_server, ada
):
    make_token(owner=ada, organization=ada.memberships.get().organization, name="Flaky")
    sign_in(page, ada.email)
    posts = []

    def fail(route):
        if route.request.method == "POST":
            posts.append(route.request.url)
            route.fulfill(status=500, body="boom")
        else:
            route.continue_()

    page.route(re.compile(r"/revoke/$"), fail)
    page.get_by_role("link", name=re.compile("^Revoke Flaky")).click()
    expect(page.locator("tr.confirming .confirm")).to_be_focused()
    button = page.get_by_role("button", name="Revoke token")
    button.focus()
    # Two presses in the same instant, as a double click sends them: one request.
    button.evaluate("b => { b.click(); b.click(); }")
    expect(page.locator("#live-region")).to_have_text(
        "Couldn’t revoke “Flaky”; nothing changed. Try again."
    )
    expect(button).to_be_focused()
    expect(button).not_to_have_attribute("aria-busy", "true")
    expect(button).to_be_enabled()
    # Pressed again once it is done, it sends again: two in all, so the double press sent one
    # (a queued second would have gone as soon as the first answered).
    page.keyboard.press("Enter")
    expect(button).to_be_focused()
    page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")
    page.unroute(re.compile(r"/revoke/$"))
    button.click()
    expect(page.locator("tr.row-notice p")).to_be_focused()
    assert len(posts) == 2
    assert page.console_errors and all("500" in error for error in page.console_errors)


def test_reload_or_back_after_rotate_leads_to_the_replacement(page, live_server, ada):
    token, _ = make_token(owner=ada, organization=ada.memberships.get().organization, name="CI")
    sign_in(page, ada.email)
    rotate = re.compile("^Rotate CI")
    # The same form in a second tab: submitting it after the first is the second POST that
    # Reload or Back and resubmit send.
    again = page.context.new_page()
    again.goto("/settings/developer/")
    again.get_by_role("link", name=rotate).click()
    expect(again.get_by_role("button", name="Rotate token")).to_be_visible()

    page.get_by_role("link", name=rotate).click()
    page.get_by_role("button", name="Rotate token").click()
    expect(page.locator("#new-token-panel")).to_be_focused()
    token.refresh_from_db()
    replacement = token.replaced_by

    again.get_by_role("button", name="Rotate token").click()
    expect(again).to_have_url(re.compile(rf"/tokens/{replacement.pk}/$"))
    expect(
        again.get_by_text(re.compile("“CI” was already rotated on .*: this is its replacement"))
    ).to_be_visible()
    expect(again.get_by_role("heading", name="CI", exact=True)).to_be_visible()
    assert Token.objects.filter(name="CI").count() == 2  # nothing rotated twice
    # Back to the rotate page (a GET) leads there too.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/tokens/{replacement.pk}/$"))
    expect(page.get_by_text(re.compile("already rotated on"))).to_be_visible()
