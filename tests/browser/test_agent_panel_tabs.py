"""The one-time panel of a new agent connection: the bare token, then a tab per client (the one
chosen selected), a WAI-ARIA tablist that arrow keys drive, each code block carrying its Copy
button inside it. Without JavaScript every client's section shows. And how tall it is."""

import pytest
from playwright.sync_api import expect

from .conftest import connect, expect_clipboard, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENTS = ["Claude Code", "Cursor", "VS Code", "Other client"]


def expect_selected(page, chosen: str) -> None:
    for client in CLIENTS:
        tab = page.get_by_role("tab", name=client)
        expect(tab).to_have_attribute("aria-selected", "true" if client == chosen else "false")
        expect(tab).to_have_attribute("tabindex", "0" if client == chosen else "-1")
    expect(page.get_by_role("tabpanel")).to_have_count(1)
    expect(page.get_by_role("tabpanel", name=chosen)).to_be_visible()


def test_the_chosen_client_s_tab_is_selected_and_arrow_keys_move_between_tabs(
    page, live_server, member
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, member.email, lands_on=None)
    connect(page, "Cursor")
    expect(page.locator("#new-token-panel")).to_be_focused()
    tabs = page.get_by_role("tablist", name="Set up your client")
    expect(tabs.get_by_role("tab")).to_have_text(CLIENTS)
    expect_selected(page, "Cursor")
    # Its code block carries its Copy button inside it.
    cursor = page.get_by_role("tabpanel", name="Cursor")
    frame = cursor.locator(".code-frame").filter(has=page.locator("#agent-config-cursor"))
    frame.get_by_role("button", name="Copy Cursor JSON").click()
    expect_clipboard(page, page.locator("#agent-config-cursor").inner_text())

    # Tab reaches the selected tab only; then the arrows, Home and End.
    page.locator("#agent-token").focus()  # the token's block, just before the tabs
    page.keyboard.press("Tab")
    expect(page.get_by_role("tab", name="Cursor")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="VS Code")).to_be_focused()
    expect_selected(page, "VS Code")
    page.keyboard.press("End")
    expect_selected(page, "Other client")
    page.keyboard.press("ArrowRight")  # wraps to the first
    expect(page.get_by_role("tab", name="Claude Code")).to_be_focused()
    expect_selected(page, "Claude Code")
    page.keyboard.press("ArrowLeft")  # and back to the last
    expect_selected(page, "Other client")
    page.keyboard.press("Home")
    expect_selected(page, "Claude Code")
    # Tab from the tab goes into its panel, not to the next tab.
    page.keyboard.press("Tab")
    expect(page.get_by_role("tabpanel", name="Claude Code").locator(":focus")).to_have_count(1)
    assert page.console_errors == []


@pytest.mark.parametrize(("width", "tallest"), [(1280, 900), (390, 1250)])
def test_the_panel_shows_one_client_and_fits_the_screen(page, member, width, tallest):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, member.email, lands_on=None)
    connect(page, "Claude Code")
    panel = page.locator("#new-token-panel")
    expect(panel).to_be_focused()
    expect_selected(page, "Claude Code")
    height = panel.bounding_box()["height"]
    print(f"agent panel at {width} px: {height:.0f} px tall")
    assert height <= tallest
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_without_javascript_every_client_s_section_shows(browser, live_server, member):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, member.email, lands_on=None)
        connect(page, "VS Code")
        expect(page.get_by_role("tablist")).to_have_count(0)
        headings = page.locator("#new-token-panel [data-tab-heading]:visible")
        # The chosen client's first.
        expect(headings).to_have_text(["VS Code", "Claude Code", "Cursor", "Other client"])
        for block in ("agent-config-vscode", "agent-config-claude", "agent-config-cursor"):
            expect(page.locator(f"#{block}")).to_be_visible()
    finally:
        context.close()
