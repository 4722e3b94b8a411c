"""The one-time agent panel's copy blocks on a phone and a desktop: no toast covers a button,
a copy says "Copied" only when something was copied, code keeps its lines and scrolls. And the
problem-type pages fit the screen, with their code and their 404."""

import pytest
from playwright.sync_api import expect

from core.problems import PROBLEMS

from .conftest import connect, expect_clipboard, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None
    return found


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_no_toast_covers_a_copy_button(page, live_server, member, shot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size(PHONE)
    sign_in(page, member.email, lands_on=None)
    connect(page, "Claude Code")
    notice = page.locator("#live-region")
    expect(notice).to_contain_text("Agent connected")  # read to screen readers, not shown

    # The button at the bottom of the screen, where a toast used to float: a tap reaches it.
    button = page.locator("[data-copy=agent-config-env]")
    expect(button).to_have_text("Copy export line")
    button.evaluate("b => b.scrollIntoView({block: 'end'})")
    assert not overlaps(box(button), box(notice))
    assert box(notice)["height"] <= 1
    shot(page, "no-toast-over-copy-390", full_page=False)
    target = box(button)
    page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    expect(button).to_have_text("Copied")
    expect_clipboard(page, page.locator("#agent-config-env").inner_text())
    expect(notice).to_contain_text("Copied to the clipboard.")  # read out, still not shown
    assert box(notice)["height"] <= 1


def test_without_the_clipboard_api_the_text_is_selected_and_copied_the_old_way(
    page, live_server, member
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, member.email, lands_on=None)
    connect(page, "Cursor")
    # As on plain http at an address other than localhost: no navigator.clipboard at all.
    page.evaluate("delete Navigator.prototype.clipboard")
    assert page.evaluate("navigator.clipboard === undefined")
    block = page.locator("#agent-config-cursor")
    page.get_by_role("button", name="Copy Cursor JSON").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("window.getSelection().toString()") == block.inner_text()
    # It really is on the clipboard: another tab, which still has the API, reads it.
    other = page.context.new_page()
    other.goto("/accounts/login/")
    expect_clipboard(other, block.inner_text())


def test_when_nothing_can_be_copied_the_button_says_so_and_never_copied(
    page, live_server, member, shot
):
    sign_in(page, member.email, lands_on=None)
    connect(page, "VS Code")
    page.evaluate("""() => {
        delete Navigator.prototype.clipboard;
        document.execCommand = () => false;
        window.labels = [];
        const button = document.querySelector("[data-copy=agent-token]");
        new MutationObserver(() => window.labels.push(button.textContent))
            .observe(document.getElementById("new-token-panel"),
                     {subtree: true, childList: true, characterData: true});
    }""")
    token = page.locator("#agent-token")
    button = page.locator("[data-copy=agent-token]")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_text("Select the text and copy it")
    expect(page.locator("#live-region")).to_have_text("Couldn’t copy. Select the text and copy it.")
    assert page.evaluate("window.getSelection().toString()") == token.inner_text()
    assert "Copied" not in page.evaluate("window.labels")
    shot(page, "copy-failed-1280", full_page=False)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_code_keeps_its_lines_and_every_block_is_the_full_width(
    browser, live_server, member, scheme, shot
):
    context = browser.new_context(base_url=live_server.url, color_scheme=scheme, viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, member.email, lands_on=None)
        connect(page, "Other MCP client")
        shot(page, f"agent-panel-other-{scheme}-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Each line of JSON is one line on the screen: it scrolls sideways rather than wraps.
        page.get_by_role("tab", name="VS Code").click()
        json_block = page.locator("#agent-config-vscode")
        lines = json_block.inner_text().count("\n") + 1
        tops = "c => new Set([...c.getClientRects()].map(r => Math.round(r.top))).size"
        assert json_block.locator("code").evaluate(tops) == lines
        assert json_block.evaluate("p => p.scrollWidth > p.clientWidth")
        # From the keyboard: Tab reaches the block, which shows where the focus is, and scrolls.
        page.get_by_role("button", name="Copy VS Code JSON").focus()
        page.keyboard.press("Tab")
        expect(json_block).to_be_focused()
        ring = json_block.evaluate("p => getComputedStyle(p).outlineStyle")
        assert ring == "solid"
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => document.getElementById('agent-config-vscode').scrollLeft > 0"
        )
        shot(page, f"agent-code-focused-{scheme}-390", full_page=False)

        page.set_viewport_size({"width": 1280, "height": 900})
        shot(page, f"agent-panel-other-{scheme}-1280")
        widths = set()
        for tab in ("Claude Code", "Cursor", "VS Code", "Other client"):
            page.get_by_role("tab", name=tab).click()
            blocks = page.locator("#new-token-panel .code-block pre:visible")
            widths |= {round(box(blocks.nth(i))["width"]) for i in range(blocks.count())}
        assert len(widths) == 1, widths
        # "Copied" moves nothing.
        page.get_by_role("button", name="Copy address").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert round(box(page.locator("#agent-config-url"))["width"]) in widths
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_problem_type_pages_fit_the_screen_and_show_code(browser, live_server, scheme, shot):
    context = browser.new_context(base_url=live_server.url, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(10_000)
    wrong = []
    try:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 844})
            for slug in PROBLEMS:
                response = page.goto(f"/api/v1/problems/{slug}")
                assert response is not None and response.status == 200
                if page.evaluate("document.documentElement.scrollWidth") > width:
                    wrong.append(f"{slug} @{width}: wider than the screen")
                card, code = page.locator(".auth-card"), page.locator(".auth-card code").first
                if box(code)["x"] + box(code)["width"] > box(card)["x"] + box(card)["width"]:
                    wrong.append(f"{slug} @{width}: its type pokes out of the card")
                if "`" in page.locator("main").inner_text():
                    wrong.append(f"{slug} @{width}: Markdown backticks")
        assert wrong == [], "\n".join(wrong)

        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 844})
            page.goto("/api/v1/problems/validation-error")
            expect(page.locator("main p code", has_text="errors")).to_be_visible()
            shot(page, f"problem-validation-error-{scheme}-{width}")
            for path in ("/api/v1/problems/", "/api/v1/problems/no-such-thing"):
                response = page.goto(path)
                assert response is not None and response.status == 404
                expect(page.get_by_role("heading", name="No such problem type")).to_be_visible()
                expect(page.get_by_role("link", name="Invalid request")).to_be_visible()
            shot(page, f"problem-unknown-{scheme}-{width}")
    finally:
        context.close()
