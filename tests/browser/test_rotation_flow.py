"""Rotate a token in the browser with a 1-hour overlap: copy the new secret, both work inside
the hour, and after it (time travel: the live server runs in this process) only the new one."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import make_org, make_token, make_user

from .conftest import api_me, expect_clipboard, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rotate_copy_then_the_old_secret_stops_after_its_overlap(page, live_server, shot):
    user = make_user(email="ada@example.com")
    org = make_org(name="Acme", members={user: Role.OWNER})
    token, old_secret = make_token(owner=user, organization=org, name="Deploy")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, "ada@example.com")

    page.get_by_role("link", name="Rotate Deploy").click()
    expect(page.get_by_role("heading", name="Rotate “Deploy”")).to_be_visible()
    page.get_by_label("Keep the old token working for 1 hour").check()
    shot(page, "rotate-page")
    page.get_by_role("button", name="Rotate token").click()

    panel = page.locator("#new-token-panel")
    expect(panel).to_be_focused()
    expect(panel.get_by_role("heading")).to_have_text("New secret for “Deploy”")
    expect(panel).to_contain_text(f"The old token ({token.prefix}…) keeps working until")
    value = page.locator("#new-token-value")
    expect(value).to_have_value(re.compile(r"^tsr_pat_\w{36}$"))
    new_secret = value.input_value()
    panel.get_by_role("button", name="Copy").click()
    expect_clipboard(page, new_secret)
    shot(page, "rotate-new-secret")

    assert api_me(live_server.url, new_secret) == 200
    assert api_me(live_server.url, old_secret) == 200  # inside the hour, both work

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert api_me(live_server.url, old_secret) == 401
        assert api_me(live_server.url, new_secret) == 200
        page.goto("/settings/developer/")
        ended = page.locator("details.inactive")
        ended.locator("summary").click()
        old_row = ended.locator(f"#token-{token.pk}")
        expect(old_row).to_contain_text("Replaced")
        expect(old_row).to_contain_text("Rotated by you")
        expect(old_row.get_by_role("link", name="See its replacement")).to_be_visible()
        shot(page, "rotate-old-ended")
    assert new_secret not in page.content()
    assert page.console_errors == []
