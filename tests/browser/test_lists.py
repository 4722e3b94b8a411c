"""The token lists as people read them (issue 18): a page of results keeps the reader's place,
a prefix finds its token whatever became of it, compact cards on a phone, row actions alike,
one type scale, and nothing sideways at 320 CSS px (400% zoom)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import make_org, make_project, make_token, make_user
from tokens.models import Token
from tokens.services import token_revoke

from .conftest import DEVELOPER, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGENTS = "/settings/agents/"
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


@pytest.fixture
def owner(db):
    return make_user(email="olivia.owner.with.a.rather.long.address@example-company.com")


@pytest.fixture
def acme(owner):
    member = make_user(email="dev@example.com")
    org = make_org(name="Acme", members={owner: Role.OWNER, member: Role.MEMBER})
    org.slug = "acme"
    org.save()
    cursor, _ = make_token(owner=member, organization=org, name="Cursor at home", kind="agt")
    Token.objects.filter(pk=cursor.pk).update(client=Token.Client.CURSOR)
    return org


def make_tokens(owner, org, count: int, kind: str = "pat") -> None:
    for number in range(1, count + 1):
        make_token(owner=owner, organization=org, name=f"CI deploy job {number:02d}", kind=kind)


# 1. Pagination keeps the reader's place


@pytest.mark.parametrize(("path", "noun"), [(DEVELOPER, "tokens"), (AGENTS, "agent connections")])
def test_next_page_brings_the_lists_heading_to_the_top_focused_and_says_which(
    page, owner, acme, path, noun
):
    make_tokens(owner, acme, 30, kind="agt" if path == AGENTS else "pat")
    sign_in(page, owner.email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    heading = page.locator("#tokens-title")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    expect(page.locator("#live-region")).to_have_text(f"Page 2 of 2, {noun} 26–30.")
    expect(page.locator("#token-results tbody tr")).to_have_count(5)
    page.get_by_role("link", name="Previous").click()
    expect(page).to_have_url(re.compile(r"\?page=1$"))
    expect(heading).to_be_focused()
    expect(page.locator("#live-region")).to_have_text(f"Page 1 of 2, {noun} 1–25.")
    assert page.console_errors == []


def test_without_javascript_the_pages_are_links_that_land_on_the_lists_heading(
    browser, live_server, owner, acme
):
    make_tokens(owner, acme, 30)
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        sign_in(page, owner.email)
        page.get_by_role("link", name="Next").click()
        expect(page).to_have_url(re.compile(r"\?page=2#tokens-title$"))
        expect(page.locator("#token-results tbody tr")).to_have_count(5)
        expect(page.locator("#tokens-title")).to_be_in_viewport()
    finally:
        context.close()


# 3. Search finds ended tokens by prefix


def test_a_revoked_tokens_prefix_finds_it_under_the_default_filter(page, owner, acme):
    leaked, _ = make_token(owner=owner, organization=acme, name="Leaked script")
    token_revoke(token=leaked, by=owner)
    make_token(owner=owner, organization=acme, name="Nightly export")
    sign_in(page, owner.email)
    expect(page.get_by_label("Show")).to_have_value("active")
    page.get_by_label("Search").fill(leaked.prefix)
    results = page.locator("#token-results")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.locator("tbody tr")).to_contain_text("Leaked script")
    expect(results.locator("tbody tr")).to_contain_text("Revoked")
    expect(results).to_contain_text("Showing every status")
    expect(page.locator("#live-region")).to_have_text("1 match.")


def test_a_name_only_ended_tokens_match_says_so_and_shows_them(page, owner, acme):
    leaked, _ = make_token(owner=owner, organization=acme, name="Leaked script")
    token_revoke(token=leaked, by=owner)
    sign_in(page, owner.email)
    page.get_by_label("Search").fill("leaked")
    results = page.locator("#token-results")
    expect(results).to_contain_text("No working token matches; 1 ended token does:")
    expect(page.locator("#live-region")).to_have_text(
        "No working token matches; 1 ended token does."
    )
    results.get_by_role("link", name="Show it").click()
    expect(page.get_by_label("Show")).to_have_value("inactive")
    expect(results.locator("tbody tr")).to_contain_text("Leaked script")


# 10. Compact cards on a phone


def test_a_phone_shows_25_tokens_as_compact_cards(page, owner, acme):
    make_tokens(owner, acme, 25)
    sign_in(page, owner.email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(DEVELOPER)
    rows = page.locator("#token-results tbody tr")
    expect(rows).to_have_count(25)
    first = rows.first
    expect(first.get_by_role("link", name="CI deploy job 25", exact=True)).to_be_visible()
    expect(first.locator(".cell-status .badge")).to_have_text("Expires in 30 days")
    expect(first.locator(".prefix")).to_be_visible()
    expect(first.locator(".last-used")).to_have_text("Never used")
    expect(first.locator(".cell-detail").first).to_be_hidden()  # access, projects, created
    # Name and status share the card's first line.
    name_box = first.locator(".token-name").bounding_box()
    badge_box = first.locator(".cell-status .badge").bounding_box()
    assert abs(name_box["y"] - badge_box["y"]) < 8, (name_box, badge_box)
    heights = rows.evaluate_all("rows => rows.map(row => row.getBoundingClientRect().height)")
    assert max(heights) <= 140, heights  # was 330 px
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 5000, height  # was 9,201 px


# 14. Row actions and the type scale


def _luminance(rgb: str) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (float(x) for x in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


STYLE = """element => {
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  let back = element.closest('.card');
  return {height: box.height, left: box.left, right: box.right, top: box.top,
          weight: style.fontWeight, size: style.fontSize, border: style.borderTopColor,
          background: getComputedStyle(back).backgroundColor};
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_row_actions_look_alike_and_name_their_token(browser, live_server, owner, acme, scheme):
    token, _ = make_token(owner=owner, organization=acme, name="Reporting script")
    context = browser.new_context(
        base_url=live_server.url, color_scheme=scheme, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, owner.email)
        row = page.locator(f"#token-{token.pk}")
        rotate = row.get_by_role("link", name=f"Rotate Reporting script ({token.prefix}…)")
        revoke = row.get_by_role("link", name=f"Revoke Reporting script ({token.prefix}…)")
        expect(rotate).to_have_text("Rotate")
        expect(revoke).to_have_text("Revoke")
        one, other = rotate.evaluate(STYLE), revoke.evaluate(STYLE)
        assert (one["height"], one["weight"], one["size"]) == (
            other["height"],
            other["weight"],
            other["size"],
        )
        assert one["top"] == other["top"]  # side by side at 1280
        assert other["left"] - one["right"] >= 6  # with a gap
        for style in (one, other):
            assert contrast(style["border"], style["background"]) >= 3, style
        page.goto(f"/settings/developer/tokens/{token.pk}/")
        expect(page.get_by_role("link", name="Revoke", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="Rotate", exact=True)).to_be_visible()
    finally:
        context.close()


FONT_SIZES = """() => {
  const sizes = new Set();
  for (const element of document.querySelectorAll('body *')) {
    const text = [...element.childNodes].some(
      node => node.nodeType === 3 && node.textContent.trim());
    if (text && element.getClientRects().length) sizes.add(getComputedStyle(element).fontSize);
  }
  return [...sizes];
}"""


def test_one_type_scale_of_six_sizes_and_one_line_headers(page, owner, acme):
    make_tokens(owner, acme, 3)
    make_token(owner=owner, organization=acme, name="Claude Code on my laptop", kind="agt")
    sign_in(page, owner.email)
    for path in (DEVELOPER, AGENTS, "/orgs/acme/agents/"):
        page.goto(path)
        expect(page.locator("#token-table")).to_be_visible()
        sizes = page.evaluate(FONT_SIZES)
        assert len(sizes) <= 6, (path, sorted(sizes))
        heights = page.locator("#token-table th").evaluate_all(
            "cells => cells.map(cell => [cell.textContent, cell.getBoundingClientRect().height])"
        )
        assert max(height for _, height in heights) < 40, (path, heights)  # one line each
    # Every size in the stylesheet is one of the scale's variables.
    sizes = re.findall(r"(?<![-\w])font(?:-size)?:\s*([^;]+);", CSS.read_text())
    loose = [size for size in sizes if "var(--text-" not in size and size != "inherit"]
    assert loose == [], loose


def test_the_oversight_table_puts_member_and_client_under_the_name(page, owner, acme):
    sign_in(page, owner.email)
    page.goto("/orgs/acme/agents/")
    headers = page.locator("#token-table thead th")
    expect(headers).to_have_count(8)
    expect(page.locator("#token-table thead")).not_to_contain_text("Member")
    name_cell = page.locator("#token-table tbody td.cell-name").first
    expect(name_cell).to_contain_text("Cursor at home")
    expect(name_cell.locator(".member")).to_have_text("dev@example.com · Cursor")
    lines = name_cell.locator(".member").evaluate("e => e.getClientRects().length")
    assert lines == 1


# 16. Nothing scrolls sideways at 320 CSS px (400% zoom)


def test_nothing_scrolls_sideways_at_320_px(page, owner, acme):
    project = make_project(organization=acme, name="Website")
    make_tokens(owner, acme, 3)
    make_token(owner=owner, organization=acme, name="Claude Code on my laptop", kind="agt")
    ended, _ = make_token(owner=owner, organization=acme, name="Old CI")
    token_revoke(token=ended, by=owner)
    sign_in(page, owner.email)
    page.set_viewport_size({"width": 320, "height": 800})
    wide = []
    for path in (
        DEVELOPER,
        f"{DEVELOPER}?status=inactive",
        AGENTS,
        "/orgs/acme/agents/",
        "/orgs/acme/projects/",
        f"/orgs/acme/projects/{project.pk}/tokens/",
        "/orgs/acme/audit/",
        "/orgs/acme/policy/",
        "/settings/profile/",
    ):
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide.append((path, width))
    assert wide == []
