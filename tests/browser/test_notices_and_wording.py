"""What the settings pages say and where: a notice the page shows in place is read to screen readers
but never floats over the page as a toast, a failure shows above its form; one word for tokens
that ended, every time of day with its zone, each page its own H1; and each access choice says
what it grants, on every form that offers it."""

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from oauth.models import Client as OAuthClient
from orgs.models import Role
from tests.factories import make_org, make_project, make_token, make_user

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
READ = "Lists and reads projects and tasks; changes nothing."
WRITE = "Also creates, changes and deletes projects and tasks, as your role allows."
CUSTOM = "Only the scopes you tick below."


@pytest.fixture
def owner(db):
    user = make_user(email="olivia@acme.test")
    acme = make_org(name="Acme", members={user: Role.OWNER})
    acme.slug = "acme"
    acme.save()
    user.project = make_project(organization=acme, name="Website")
    token, _ = make_token(owner=user, organization=acme, name="Old CI")
    token.revoked_at = token.created_at
    token.save(update_fields=["revoked_at"])
    make_token(owner=user, organization=acme, name="Deploy")
    return user


def covers_nothing(page) -> None:
    """The live region holds its words for screen readers and takes no room on the screen."""
    box = page.locator("#live-region").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box


def test_a_new_token_is_said_in_place_and_no_toast_covers_the_page(page, owner):
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email)
    page.goto("/settings/developer/new")
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_role("button", name="Generate token").click()
    panel = page.locator("#new-token-panel")
    expect(panel).to_be_focused()
    expect(panel).to_contain_text("Copy it now")
    expect(page.locator("#live-region")).to_contain_text("Copy it now")  # read, once
    covers_nothing(page)

    page.get_by_role("link", name="Revoke Deploy").click()
    page.get_by_role("button", name="Revoke token").click()
    notice = page.locator("tr.row-notice p")
    expect(notice).to_be_focused()
    expect(page.locator("#live-region")).to_have_text(notice.inner_text())
    covers_nothing(page)


def test_a_failure_is_shown_above_its_form_and_covers_nothing(page, owner):
    page.set_viewport_size(PHONE)
    sign_in(page, owner.email)
    page.goto("/settings/developer/new")
    page.route("**/settings/developer/new", lambda route: route.fulfill(status=500, body="boom")
               if route.request.method == "POST" else route.continue_())  # fmt: skip
    page.get_by_label("Name").fill("Deploy bot")
    page.get_by_role("button", name="Generate token").click()
    said = (
        "Couldn’t create the token; nothing was saved and your choices are still here. Try again."
    )
    shown = page.locator("form [data-failure]")
    expect(shown).to_have_text(said)
    expect(shown).to_be_in_viewport()
    expect(page.locator("#live-region")).to_have_text(said)
    covers_nothing(page)
    page.unroute("**/settings/developer/new")
    page.get_by_role("button", name="Generate token").click()
    expect(page.locator("#new-token-panel")).to_be_focused()
    expect(page.locator("[data-failure]")).to_have_count(0)


def test_one_word_for_tokens_that_ended_and_every_time_with_its_zone(page, owner):
    sign_in(page, owner.email)
    status = page.get_by_label("Show")
    expect(status.locator("option", has_text="Ended")).to_have_count(1)
    expect(status.locator("option", has_text="Inactive")).to_have_count(0)
    expect(page.locator("details.inactive > summary")).to_contain_text("Ended (1)")
    created = page.locator("td[data-label=Created]").first
    expect(created).to_have_text(re.compile(r"\d{2}:\d{2} UTC$"))
    expect(page.locator("td[data-label=Expires]").first).to_contain_text("UTC")
    page.goto("/orgs/acme/audit/")
    expect(page.locator("td[data-label=When]").first).to_have_text(re.compile(r"\d{2}:\d{2} UTC$"))


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/settings/profile/", "Profile"),
        ("/settings/security/", "Security"),
        ("/accounts/email/", "Security"),
        ("/settings/developer/", "Developer"),
        ("/settings/developer/new", "Developer"),
        ("/settings/agents/", "Agents"),
        ("/orgs/acme/agents/", "Acme"),
        ("/orgs/acme/audit/", "Acme"),
    ],
)
def test_each_settings_page_has_its_own_h1_under_a_settings_trail(page, owner, path, heading):
    sign_in(page, owner.email)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".page-trail").get_by_role("link", name="Settings")).to_be_visible()


def test_each_access_choice_says_what_it_grants_on_every_form(page, owner):
    client = OAuthClient.objects.create(
        client_id="tsr-client-words",
        registration=OAuthClient.Registration.DYNAMIC,
        name="Claude Code",
        redirect_uris=["http://127.0.0.1:33418/callback"],
    )
    approve = "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0], "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    })  # fmt: skip
    sign_in(page, owner.email)
    for path in ("/settings/developer/new", "/settings/agents/new", approve):
        page.goto(path)
        expect(page.get_by_label("Read-only")).to_have_accessible_description(READ)
        expect(page.get_by_label("Read & write")).to_have_accessible_description(WRITE)
        expect(page.get_by_label("Custom scopes")).to_have_accessible_description(CUSTOM)
        expect(page.get_by_text(READ)).to_be_visible()
    page.goto(f"/orgs/acme/projects/{owner.project.pk}/tokens/new")
    expect(page.get_by_label("Read-only")).to_have_accessible_description(
        "Reads the project and its tasks; changes nothing."
    )
    expect(page.get_by_label("Read & write")).to_have_accessible_description(
        "Also creates, changes and deletes the project’s tasks."
    )
