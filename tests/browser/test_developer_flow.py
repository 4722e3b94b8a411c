import re

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import PASSWORD, make_org, make_project, make_user

from .conftest import api_me, expect_clipboard, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_use_reload_revoke(page, live_server, shot):
    user = make_user(email="ada@example.com", name="Ada")
    org = make_org(name="Acme", members={user: Role.OWNER})
    for name in ["Website", "Mobile app"]:
        make_project(organization=org, name=name)

    page.goto("/accounts/login/")
    shot(page, "01-sign-in")
    sign_in(page, "ada@example.com")
    shot(page, "02-developer-empty")

    page.get_by_role("link", name="Generate new token").click()
    page.get_by_label("Name").fill("Reporting script")
    expect(page.get_by_label("Read-only")).to_be_checked()
    page.get_by_role("button", name="Generate token").click()
    panel = page.locator("#new-token-panel")
    # The page moves focus to the panel after the swap settles: wait for it, never read it at once.
    expect(panel).to_be_focused()
    value = page.locator("#new-token-value")
    expect(value).to_have_value(re.compile(r"^tsr_pat_\w{36}$"))
    secret = value.input_value()
    shot(page, "03-token-created")

    assert api_me(live_server.url, secret) == 200

    page.reload()
    row = page.locator("#token-table tbody tr").first
    expect(row).to_contain_text(secret[:14])
    expect(row).to_contain_text("Read-only")
    assert secret not in page.content()
    shot(page, "04-token-listed")

    row.get_by_role("link", name="Revoke Reporting script").click()
    expect(page.get_by_role("button", name="Revoke token")).to_be_visible()
    shot(page, "05-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    notice = page.locator("#token-table tbody tr.row-notice p")
    expect(notice).to_have_text(re.compile("^Revoked “Reporting script”"))
    expect(notice).to_be_focused()  # the message that replaced the row takes the focus
    expect(page.locator("#live-region")).to_contain_text("Revoked “Reporting script”")
    shot(page, "06-token-revoked")

    assert api_me(live_server.url, secret) == 401
    assert page.console_errors == []


def test_copy_button_and_custom_fields(page, live_server, shot, browser):
    user = make_user(email="ada@example.com")
    org = make_org(name="Acme", members={user: Role.OWNER})
    make_project(organization=org, name="Website")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, "ada@example.com")
    page.get_by_role("link", name="Generate new token").click()

    scopes = page.locator('[data-show-when="access=custom"]')
    expect(scopes).to_be_hidden()
    page.get_by_label("Custom scopes").check()
    expect(scopes).to_be_visible()
    page.get_by_label("Only selected projects").check()
    page.get_by_label("Website").check()
    page.get_by_label("Expires").select_option("custom")
    expect(page.get_by_label("Expiry date")).to_be_visible()

    # Submitting with no scope chosen keeps what was typed and says what is missing.
    page.get_by_label("Name").fill("Deploy bot")
    page.get_by_role("button", name="Generate token").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()  # the error summary takes the focus and links to the field
    expect(summary.get_by_role("link", name="Scopes: Choose at least one scope.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Deploy bot")
    shot(page, "07-form-errors")

    page.get_by_label("tasks:write — Create, update and delete tasks").check()
    page.get_by_label("Expires").select_option("90")
    page.get_by_role("button", name="Generate token").click()
    value = page.locator("#new-token-value")
    expect(value).to_have_value(re.compile(r"^tsr_pat_"))
    secret = value.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect_clipboard(page, secret)
    expect(page.locator("#token-table")).to_contain_text("Website")

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "08-mobile")
    assert page.console_errors == []


def test_an_unverified_address_is_asked_to_verify_before_signing_in(page, shot):
    user = make_user(email="new@example.com", verified=False)
    make_org(members={user: Role.OWNER})
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    # allauth sends a fresh link instead of signing an unverified address in.
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    shot(page, "09-unverified")


def test_api_docs_render_under_our_content_security_policy(page, shot):
    response = page.goto("/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_text("/api/v1/me").first).to_be_visible()
    shot(page, "10-api-docs")
    assert page.console_errors == []
