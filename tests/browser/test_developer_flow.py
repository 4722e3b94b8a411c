import json
import urllib.error
import urllib.request

import pytest

from orgs.models import Role
from tests.factories import PASSWORD, make_org, make_project, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_me(base_url: str, secret: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def sign_in(page, email: str):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/settings/developer/")


def test_create_use_reload_revoke(page, live_server, shot):
    user = make_user(email="ada@example.com", name="Ada")
    org = make_org(name="Acme", members={user: Role.OWNER})
    for name in ["Website", "Mobile app"]:
        make_project(organization=org, name=name)

    page.goto("/accounts/login/")
    shot(page, "01-sign-in")
    sign_in(page, "ada@example.com")
    shot(page, "02-developer-empty")

    page.get_by_label("Name").fill("Reporting script")
    assert page.get_by_label("Read-only").is_checked()
    page.get_by_role("button", name="Create token").click()
    panel = page.locator("#new-token-panel")
    panel.wait_for()
    secret = page.locator("#new-token-value").input_value()
    assert secret.startswith("tsr_pat_") and len(secret) == 44
    assert page.evaluate("document.activeElement.id") == "new-token-panel"
    shot(page, "03-token-created")

    assert api_me(live_server.url, secret) == 200

    page.reload()
    assert secret not in page.content()
    row = page.locator("#token-table tbody tr").first
    assert secret[:14] in row.inner_text()
    assert "Read-only" in row.inner_text()
    shot(page, "04-token-listed")

    row.get_by_role("link", name="Revoke Reporting script").click()
    page.get_by_role("button", name="Revoke token").wait_for()
    shot(page, "05-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    page.get_by_text("Revoked “Reporting script”").wait_for()
    assert page.locator("#token-table tbody tr").count() == 0
    shot(page, "06-token-revoked")

    assert api_me(live_server.url, secret) == 401
    assert page.console_errors == []


def test_copy_button_and_custom_fields(page, live_server, shot, browser):
    user = make_user(email="ada@example.com")
    org = make_org(name="Acme", members={user: Role.OWNER})
    make_project(organization=org, name="Website")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, "ada@example.com")

    scopes = page.locator('[data-show-when="access=custom"]')
    assert scopes.is_hidden()
    page.get_by_label("Custom scopes").check()
    assert scopes.is_visible()
    page.get_by_label("Only selected projects").check()
    page.get_by_label("Website").check()
    page.get_by_label("Expires").select_option("custom")
    assert page.get_by_label("Expiry date").is_visible()

    # Submitting with no scope chosen keeps what was typed and says what is missing.
    page.get_by_label("Name").fill("Deploy bot")
    page.get_by_role("button", name="Create token").click()
    page.get_by_text("Choose at least one scope.").wait_for()
    assert page.get_by_label("Name").input_value() == "Deploy bot"
    shot(page, "07-form-errors")

    page.get_by_label("tasks:write — Create, update and delete tasks").check()
    page.get_by_label("Expires").select_option("90")
    page.get_by_role("button", name="Create token").click()
    page.locator("#new-token-panel").wait_for()
    secret = page.locator("#new-token-value").input_value()
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert "Website" in page.locator("#token-table").inner_text()

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "08-mobile")
    assert page.console_errors == []


def test_unverified_user_sees_the_banner(page, shot):
    user = make_user(email="new@example.com", verified=False)
    make_org(members={user: Role.OWNER})
    sign_in(page, "new@example.com")
    assert page.get_by_text("Verify your email address to create tokens.").is_visible()
    assert page.get_by_role("button", name="Create token").is_disabled()
    shot(page, "09-unverified")


def test_api_docs_render_under_our_content_security_policy(page, shot):
    response = page.goto("/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_text("/api/v1/me").first.wait_for()
    shot(page, "10-api-docs")
    assert page.console_errors == []
