"""A rotation's overlap in the list: the older secret, still working, sits under its successor
(not a twin row of the same name), every action names its token by prefix, and revoking the
successor says the older secret still works and offers to end both."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import make_org, make_token, make_user
from tokens.services import token_rotate

from .conftest import api_me, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def overlap(page):
    user = make_user(email="ada@example.com")
    org = make_org(name="Acme", members={user: Role.OWNER})
    old, old_secret = make_token(owner=user, organization=org, name="Reporting script")
    new, new_secret = token_rotate(token=old, by=user, overlap=timedelta(hours=24))
    sign_in(page, "ada@example.com")
    return old, old_secret, new, new_secret


def test_the_older_secret_is_a_line_under_its_successor(page, overlap):
    old, _, new, _ = overlap
    table = page.locator("#token-results table")
    expect(table.get_by_role("link", name="Reporting script", exact=True)).to_have_count(1)
    line = page.locator(f"tr.previous-secret#token-{old.pk}")
    expect(line).to_contain_text(f"Previous secret {old.prefix}… works until")
    # Each action says which secret it acts on.
    expect(
        page.get_by_role("link", name=f"Revoke Reporting script ({new.prefix}…)")
    ).to_be_visible()
    expect(
        page.get_by_role("link", name=f"Rotate Reporting script ({new.prefix}…)")
    ).to_be_visible()
    expect(
        line.get_by_role("link", name=re.compile(rf"^End now.*\({old.prefix}…\)$"))
    ).to_be_visible()
    assert page.console_errors == []


def test_revoking_the_successor_offers_to_end_both_and_ends_both(page, live_server, overlap):
    old, old_secret, new, new_secret = overlap
    page.get_by_role("link", name=f"Revoke Reporting script ({new.prefix}…)").click()
    confirmation = page.locator("tr.confirming .confirm")
    expect(confirmation).to_be_focused()
    expect(confirmation).to_contain_text(f"Its previous secret {old.prefix}… still works until")
    expect(confirmation).to_contain_text("Revoking only this one leaves that one working")
    page.get_by_role("button", name="Revoke both secrets").click()
    notice = page.locator("tr.row-notice p")
    expect(notice).to_be_focused()
    expect(notice).to_have_text(re.compile("Its previous secret was revoked with it.$"))
    expect(page.locator(f"#token-{old.pk}")).to_have_count(0)
    assert api_me(live_server.url, new_secret) == 401
    assert api_me(live_server.url, old_secret) == 401
    assert AuditEvent.objects.filter(event="token.revoked").count() == 2
    assert page.console_errors == []


def test_revoking_only_the_new_one_leaves_the_older_secret_listed_and_working(
    page, live_server, overlap
):
    old, old_secret, new, new_secret = overlap
    page.get_by_role("link", name=f"Revoke Reporting script ({new.prefix}…)").click()
    page.get_by_role("button", name="Revoke only the new one").click()
    expect(page.locator("tr.row-notice p")).to_be_focused()
    expect(page.locator(f"#token-{old.pk}")).to_contain_text(f"Previous secret {old.prefix}…")
    assert api_me(live_server.url, new_secret) == 401
    assert api_me(live_server.url, old_secret) == 200
    # On the next visit it is a row of its own, the one that works.
    page.reload()
    expect(
        page.get_by_role("link", name=f"Revoke Reporting script ({old.prefix}…)")
    ).to_be_visible()


def test_end_now_revokes_the_older_secret_alone(page, live_server, overlap):
    old, old_secret, _, new_secret = overlap
    line = page.locator(f"#token-{old.pk}")
    line.get_by_role("link", name=re.compile("^End now")).click()
    confirmation = page.locator("tr.confirming .confirm")
    expect(confirmation).to_be_focused()
    page.keyboard.press("Escape")  # Cancel: the line comes back, focus on its End now
    expect(line.get_by_role("link", name=re.compile("^End now"))).to_be_focused()
    line.get_by_role("link", name=re.compile("^End now")).click()
    expect(confirmation).to_contain_text(f"({old.prefix}…)")
    page.get_by_role("button", name="Revoke token").click()
    notice = page.locator("tr.row-notice p")
    expect(notice).to_have_text(re.compile(f"^Revoked the previous secret {old.prefix}…"))
    assert api_me(live_server.url, old_secret) == 401
    assert api_me(live_server.url, new_secret) == 200
    assert page.console_errors == []
