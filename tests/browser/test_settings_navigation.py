"""Settings navigation on a desktop and a phone: the organization switcher is a disclosure of links
that never navigates on an arrow key (WCAG 3.2.2) and hands the focus back after switching, with or
without JavaScript; each tab row is one line showing its current tab; organization pages start near
the top of a phone, and the audit log's filters fold behind one button there."""

import re

import pytest
from playwright.sync_api import expect

from audit.services import audit_record
from orgs.models import Role
from tests.factories import make_org, make_token, make_user

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
AUDIT = "/orgs/acme/audit/"


@pytest.fixture
def owner(db):
    """Owner of Acme (with 60 audit events, more than a page) and admin of Globex Corporation."""
    user = make_user(email="olivia@acme.test")
    member = make_user(email="dev@acme.test")
    acme = make_org(name="Acme", members={user: Role.OWNER, member: Role.MEMBER})
    acme.slug = "acme"
    acme.save()
    globex = make_org(name="Globex Corporation", members={user: Role.ADMIN})
    globex.slug = "globex"
    globex.save()
    agent, _ = make_token(owner=member, organization=acme, name="Cursor", kind="agt")
    for _ in range(60):
        audit_record(event="api.write", token=agent, action="POST /api/v1/projects/1/tasks",
                     status=201, ip="203.0.113.7")  # fmt: skip
    return user


def top(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def test_the_switcher_is_a_list_of_links_that_hands_the_focus_back(page, owner):
    sign_in(page, owner.email)
    page.goto(AUDIT)
    switcher = page.locator("#org-switcher > summary")
    expect(switcher).to_have_accessible_name("Switch organization")
    expect(page.get_by_role("combobox", name="Organization")).to_have_count(0)
    switcher.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("list", name="Organizations")
    expect(menu.get_by_role("link", name="Globex Corporation")).to_be_visible()
    expect(menu.get_by_role("link", name="Acme (this one)")).to_have_attribute(
        "aria-current", "true"
    )

    # Arrow keys move nothing and go nowhere; Escape closes the list, back on its button.
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Acme (this one)")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    expect(switcher).to_be_focused()
    expect(menu).to_be_hidden()
    expect(page).to_have_url(re.compile(f"{AUDIT}$"))

    # Choosing one: the same page in that organization, the focus on the switcher again.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Globex Corporation")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/orgs/globex/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Corporation")
    expect(page.locator("#org-switcher > summary")).to_be_focused()
    expect(page.get_by_role("navigation", name="Globex Corporation").get_by_role(
        "link", name="Audit log")).to_have_attribute("aria-current", "page")  # fmt: skip
    assert page.console_errors == []


def test_the_switcher_works_without_javascript(browser, live_server, owner):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, owner.email)
        # Policy is for owners: in Globex, where Olivia is an admin, the switch lands on Agents.
        page.goto("/orgs/acme/policy/")
        page.locator("#org-switcher > summary").click()
        page.get_by_role("link", name="Globex Corporation").click()
        page.wait_for_url("**/orgs/globex/agents/#org-switcher")
        expect(page.get_by_role("heading", level=1)).to_have_text("Globex Corporation")
        page.locator("#org-switcher > summary").click()
        page.get_by_role("list", name="Organizations").get_by_role("link", name="Acme").click()
        page.wait_for_url("**/orgs/acme/agents/#org-switcher")
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    finally:
        context.close()


@pytest.mark.parametrize(
    "path", ["/settings/profile/", "/settings/agents/", "/orgs/acme/agents/", AUDIT]
)
def test_each_tab_row_is_one_line_that_shows_its_current_tab_on_a_phone(page, owner, path):
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email)
    page.goto(path)
    rows = page.locator("nav.tabs")
    expect(rows.first).to_be_visible()
    for index in range(rows.count()):
        row = rows.nth(index)
        tabs = row.get_by_role("link")
        first, last = tabs.first.bounding_box(), tabs.last.bounding_box()
        assert first and last and abs(first["y"] - last["y"]) < 1, "the tabs wrap to a second line"
        current = row.locator("[aria-current=page]")
        # The current tab is inside the row's visible part, however far it had to scroll.
        page.wait_for_function(
            """([row, tab]) => {
                const r = row.getBoundingClientRect(), t = tab.getBoundingClientRect();
                return t.left >= r.left - 1 && t.right <= r.right + 1;
            }""",
            arg=[row.element_handle(), current.element_handle()],
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_organization_pages_start_near_the_top_of_a_phone(page, owner, shot):
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email)
    page.goto("/orgs/acme/agents/")
    content = page.locator("main .card").first
    expect(content).to_be_visible()
    assert top(content) <= 240  # 344 px before: a wrapped tab row and a switcher on its own line
    shot(page, "org-agents-390", full_page=False)


def test_the_audit_filters_fold_behind_one_button_on_a_phone(page, owner, shot):
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email)
    page.goto(f"{AUDIT}?event=api.write&token=tsr_agt")
    filters = page.locator("details.filter-disclosure > summary")
    expect(filters).to_have_text("Filters (2 active)")
    expect(page.get_by_label("Member")).to_be_hidden()
    first = page.locator("#audit-results tbody tr").first
    expect(first).to_contain_text("API write")
    assert top(first) + 40 < PHONE["height"]  # 987 px before, under five stacked filters
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 10_000, f"the audit log is {height} px tall"
    shot(page, "audit-390", full_page=False)

    filters.click()
    expect(page.get_by_label("Member")).to_be_visible()
    page.get_by_label("Event").select_option(label="Any event")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("details.filter-disclosure > summary")).to_have_text("Filters (1 active)")

    # Invalid filters: the disclosure comes open, with the error summary focused in it.
    page.goto(f"{AUDIT}?since=2026-02-01&until=2026-01-01")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("To", exact=True)).to_be_visible()


def test_the_audit_filters_stay_in_view_on_a_desktop(page, owner):
    sign_in(page, owner.email)
    page.goto(f"{AUDIT}?event=api.write")
    expect(page.get_by_label("Member")).to_be_visible()
    expect(page.get_by_role("button", name="Filter")).to_be_visible()
    expect(page.locator("details.filter-disclosure > summary")).to_be_hidden()
