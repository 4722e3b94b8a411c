"""A form sent after its session ended in another tab: the sign-in page says so, and after
signing in the same form comes back filled in with what was typed. Nothing is created."""

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import make_org, make_token, make_user
from tokens.models import Token

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENDED = "Your session ended. Sign in again to continue: we kept what you typed."


@pytest.fixture
def ada(db):
    user = make_user(email="ada@example.com")
    return user, make_org(name="Acme", members={user: Role.OWNER})


def sign_out_in_another_tab(page) -> None:
    tab = page.context.new_page()
    tab.goto("/settings/profile/")
    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_url("**/accounts/login/")
    tab.close()


def sign_in_again(page, lands_on: str) -> None:
    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_text(ENDED)).to_be_visible()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"**{lands_on}")


@pytest.mark.parametrize(
    ("path", "submit"),
    [("/settings/developer/new", "Generate token"), ("/settings/agents/new", "Connect agent")],
)
def test_a_token_form_sent_after_the_session_ended_comes_back_filled(page, ada, path, submit):
    sign_in(page, "ada@example.com")
    page.goto(path)
    page.get_by_label("Name").fill("Nightly backup")
    page.get_by_label("Expires").select_option("30")
    sign_out_in_another_tab(page)

    page.get_by_role("button", name=submit).click()
    page.wait_for_url("**/accounts/login/**")
    sign_in_again(page, path)

    expect(page.get_by_label("Name")).to_have_value("Nightly backup")
    expect(page.get_by_label("Expires")).to_have_value("30")
    assert not Token.objects.filter(name="Nightly backup").exists()


def test_a_rotation_sent_after_the_session_ended_keeps_its_overlap(page, ada):
    user, org = ada
    token, _ = make_token(owner=user, organization=org, name="Deploy")
    sign_in(page, "ada@example.com")
    page.get_by_role("link", name="Rotate Deploy").click()
    page.get_by_label("Keep the old token working for 1 hour").check()
    sign_out_in_another_tab(page)

    page.get_by_role("button", name="Rotate token").click()
    sign_in_again(page, f"/{token.pk}/rotate/")

    expect(page.get_by_label("Keep the old token working for 1 hour")).to_be_checked()
    token.refresh_from_db()
    assert token.rotated_at is None


def test_a_policy_change_sent_after_the_session_ended_waits_to_be_saved(page, ada):
    _, org = ada
    sign_in(page, "ada@example.com")
    page.goto(f"/orgs/{org.slug}/policy/")
    page.get_by_label("Maximum lifetime of a token, in days").fill("45")
    sign_out_in_another_tab(page)

    page.get_by_role("button", name="Save policy").click()
    sign_in_again(page, f"/orgs/{org.slug}/policy/")

    expect(page.get_by_label("Maximum lifetime of a token, in days")).to_have_value("45")
    expect(page.locator("#pending-changes")).to_contain_text("Not saved.")
    org.refresh_from_db()
    assert org.token_max_lifetime_days is None
