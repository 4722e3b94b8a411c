"""The create forms offer only the lifetimes an organization's policy allows, and say why."""

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import make_org, make_project, make_user
from tokens.policy import policy_update

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def strict(db):
    owner = make_user(email="ada@example.com")
    acme = make_org(name="Acme", members={owner: Role.OWNER})
    make_org(name="Globex", members={owner: Role.OWNER})
    policy_update(organization=acme, by=owner, token_max_lifetime_days=45)
    return acme, make_project(organization=acme, name="Website")


def test_the_personal_form_follows_the_chosen_organizations_policy(page, strict):
    sign_in(page, "ada@example.com")
    page.goto("/settings/developer/new")
    organization = page.get_by_label("Organization")
    expiry = page.get_by_label("Expires")
    note = page.get_by_text("Acme’s policy: tokens expire within 45 days.")

    organization.select_option(label="Acme")
    expect(note).to_be_visible()
    expect(expiry.locator("option[value='60']")).to_be_disabled()
    expect(expiry.locator("option[value='never']")).to_be_disabled()
    expect(expiry.locator("option[value='30']")).to_be_enabled()
    # The organizations keep their names: the note goes under the expiry, nowhere else.
    expect(organization.locator("option")).to_have_text(["Acme", "Globex"])

    organization.select_option(label="Globex")
    expect(note).to_be_hidden()
    expect(expiry.locator("option[value='never']")).to_be_enabled()
    assert page.console_errors == []


def test_quick_changes_of_organization_end_on_the_last_ones_policy_without_errors(page, strict):
    sign_in(page, "ada@example.com")
    page.goto("/settings/developer/new")
    organization = page.get_by_label("Organization")
    expiry = page.get_by_label("Expires")
    expect(expiry).to_be_visible()

    # Each change goes out while the one before is still on its way: none is aborted, the last
    # one wins.
    for name in ("Globex", "Acme", "Globex", "Acme"):
        organization.select_option(label=name)
    expect(page.get_by_text("Acme’s policy: tokens expire within 45 days.")).to_be_visible()
    expect(expiry.locator("option[value='never']")).to_be_disabled()
    assert page.console_errors == []


def test_the_project_form_offers_only_what_the_policy_allows(page, strict):
    acme, website = strict
    sign_in(page, "ada@example.com")
    page.goto(f"/orgs/{acme.slug}/projects/{website.pk}/tokens/new")
    expiry = page.get_by_label("Expires")
    expect(expiry).to_be_visible()
    expect(page.get_by_text("Acme’s policy: tokens expire within 45 days.")).to_be_visible()
    expect(expiry.locator("option[value='60']")).to_be_disabled()
    expect(expiry.locator("option[value='never']")).to_be_disabled()
    expect(expiry).to_have_value("30")
    assert page.console_errors == []
