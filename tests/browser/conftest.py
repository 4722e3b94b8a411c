import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

DEVELOPER = "/settings/developer/"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Assertions wait for the page (never read it right after an action); generous for a busy CI box.
expect.set_options(timeout=10_000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; `make test` installs it when run as root.")
    # Playwright's sync API runs an event loop in this thread; the ORM calls our tests make
    # around it are ordinary blocking calls, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = True):
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)

    return take


def expect_clipboard(page, expected: str, timeout: float = 10_000) -> None:
    """Wait until the clipboard holds `expected`: a copy finishes after its click returns."""
    page.wait_for_function(
        "async (expected) => (await navigator.clipboard.readText()) === expected",
        arg=expected,
        timeout=timeout,
    )


def api_me(base_url: str, secret: str) -> int:
    """The status GET /api/v1/me answers for this token, over real HTTP."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def sign_in(page, email: str, password: str = PASSWORD, *, lands_on: str | None = DEVELOPER):
    """Sign in through the sign-in page, as a person would, from a clean slate; then wait for
    the page it lands on (None: do not wait, for a flow that asks for more)."""
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if lands_on:
        page.wait_for_url(f"**{lands_on}")


def add_virtual_authenticator(page) -> None:
    """A platform authenticator in Chromium (DevTools' WebAuthn domain) that holds passkeys and
    verifies its user, so passkey tests need no person."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


@pytest.fixture
def member(db):
    """A member of Acme, for the agent flow's tests."""
    from orgs.models import Role
    from tests.factories import make_org, make_user

    user = make_user(email="member@acme.test")
    make_org(name="Acme", members={user: Role.MEMBER})
    return user


def connect(page, client: str, name: str = "My agent") -> None:
    """Connect an agent for `client` through the form, and wait for its one-time panel (which
    also takes the focus, where JavaScript runs)."""
    page.goto("/settings/agents/new")
    page.get_by_label(client, exact=True).check()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Connect agent").click()
    expect(page.locator("#new-token-panel")).to_be_visible()
