"""Every page, light and dark, at 1280 and 390 px: axe-core finds no serious or critical
violation of WCAG 2.0, 2.1 and 2.2 A and AA (target size included) or of its best practices,
and nothing is wider than the screen (at 390 px, and at 200% zoom)."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from audit.services import audit_record
from oauth.models import Client as OAuthClient
from orgs.models import Role
from tests.factories import make_org, make_project, make_token, make_user
from tokens.models import Token
from tokens.services import project_token_create, token_rotate

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
# The WCAG 2.2 AA set (with 2.0 and 2.1 A and AA beneath it) and the best practices axe runs by
# default, chosen by tag: https://github.com/dequelabs/axe-core/blob/develop/doc/API.md#options-parameter
# Target size (2.5.8) is tagged wcag22aa but ships turned off, so it is named as well.
WCAG22AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG22AA},
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}
SIGNED_OUT = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/nope/",
    "/api/v1/problems/validation-error",
    "/api/v1/problems/missing-token",
    "/api/v1/problems/",
]
SIGNED_IN = [
    "/settings/profile/",
    "/settings/security/",
    "/settings/developer/",
    "/settings/developer/new",
    "/settings/developer/tokens/{token}/",
    "/settings/developer/tokens/{token}/revoke/",
    "/settings/developer/tokens/{token}/rotate/",
    "/settings/developer/tokens/{rotated}/",
    # A successor whose older secret still works: the confirmation offers to end both.
    "/settings/developer/tokens/{successor}/revoke/",
    "/settings/developer/?status=inactive",
    "/settings/developer/?q=nothing-matches",
    "/settings/developer/?q=tsr_pat_",
    "/settings/developer/?q=Old",
    "/settings/agents/",
    "/settings/agents/new",
    "/settings/agents/{agent}/",
    "/settings/agents/{agent}/rotate/",
    "/orgs/acme/agents/",
    "/orgs/acme/audit/",
    "/orgs/acme/audit/?since=2026-02-01&until=2026-01-01",
    "/orgs/acme/policy/",
    "/orgs/acme/projects/",
    "/orgs/acme/projects/{project}/tokens/",
    "/orgs/acme/projects/{project}/tokens/new",
    "/orgs/acme/projects/{project}/tokens/{project_token}/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/sessions/",
    "{approve}",
    "/oauth/authorize?client_id=nobody&response_type=code",
]


@pytest.fixture
def world(db):
    owner = make_user(email="olivia.owner.with.a.rather.long.address@example-company.com")
    member = make_user(email="dev@example.com")
    acme = make_org(name="Acme", members={owner: Role.OWNER, member: Role.MEMBER})
    acme.slug = "acme"
    acme.save()
    make_org(name="Globex Corporation", members={owner: Role.ADMIN})
    website = make_project(organization=acme, name="Website")
    token, _ = make_token(
        owner=owner, organization=acme,
        name="Nightly export of every project to the warehouse, with retries",
    )  # fmt: skip
    expired, _ = make_token(owner=owner, organization=acme, name="Old CI")
    Token.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=2))
    agent, _ = make_token(owner=owner, organization=acme, name="Claude Code", kind="agt")
    make_token(owner=member, organization=acme, name="Member's Cursor", kind="agt")
    audit_record(event="api.write", token=token, action="POST /api/v1/projects/1/tasks", status=201)
    rotated, _ = make_token(owner=owner, organization=acme, name="Deploy")
    successor, _ = token_rotate(token=rotated, by=owner, overlap=timedelta(hours=1))
    project_token, _ = project_token_create(
        project=website, by=owner, name="Status page", scopes=["projects:read"], expires_at=None
    )
    agent_client = OAuthClient.objects.create(
        client_id="tsr-client-axe",
        registration=OAuthClient.Registration.DYNAMIC,
        name="Claude Code",
        redirect_uris=["http://127.0.0.1:33418/callback"],
    )
    approve = "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": agent_client.client_id,
            "redirect_uri": agent_client.redirect_uris[0],
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )
    return {
        "approve": approve,
        "owner": owner,
        "token": token.pk,
        "agent": agent.pk,
        "rotated": rotated.pk,
        "successor": successor.pk,
        "project": website.pk,
        "project_token": project_token.pk,
    }


def audit(page, where: str, width: int) -> list[str]:
    """Serious or critical axe violations, and overflow, on the page as it is now."""
    problems = []
    for violation in AXE.run(page, options=AXE_OPTIONS).response["violations"]:
        if violation["impact"] in {"serious", "critical"}:
            nodes = [(node["target"], node["failureSummary"]) for node in violation["nodes"]]
            problems.append(f"{where} @{width}: {violation['id']} ({violation['impact']})")
            problems += [f"    {target}: {summary}" for target, summary in nodes[:3]]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"{where} @{width}: {scroll_width} px wide")
    return problems


def check(page, path: str, width: int) -> list[str]:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)
    expect(page.locator("main")).to_be_visible()
    return audit(page, path, width)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_and_fits_the_screen(browser, live_server, world, scheme, shot):
    context = browser.new_context(base_url=live_server.url, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = []
    try:
        for path in SIGNED_OUT:
            for width in (1280, 390):
                problems += check(page, path, width)
        sign_in(page, world["owner"].email)
        for template in SIGNED_IN:
            path = template.format(**world)
            for width in (1280, 390):
                problems += check(page, path, width)
        # The approval an MCP client asks for (MCP authorization), as people see it.
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(world["approve"])
            shot(page, f"oauth-approve-{scheme}-{width}")
        # The one-time secret's page, at both widths.
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/settings/developer/new")
            page.get_by_label("Name").fill(f"Fresh {width}")
            page.get_by_role("button", name="Generate token").click()
            expect(page.locator("#new-token-panel")).to_be_focused()
            problems += audit(page, "the new token", width)
            shot(page, f"a11y-created-{scheme}-{width}")
        # The list during a rotation's overlap, and revoking its successor in the row.
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/settings/developer/")
            expect(page.locator("tr.previous-secret")).to_be_visible()
            page.get_by_role("link", name="Revoke Deploy").click()
            expect(page.locator("tr.confirming .confirm")).to_be_focused()
            expect(page.get_by_role("button", name="Revoke both secrets")).to_be_visible()
            problems += audit(page, "revoking a successor in its row", width)
            shot(page, f"a11y-revoke-both-{scheme}-{width}")
        # A new agent connection's panel, and a rotated one's, at both widths.
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/settings/agents/new")
            page.get_by_label("Other MCP client").check()
            page.get_by_label("Name").fill(f"Agent {width}")
            page.get_by_role("button", name="Connect agent").click()
            expect(page.locator("#new-token-panel")).to_be_focused()
            problems += audit(page, "the new agent connection", width)
            shot(page, f"a11y-agent-created-{scheme}-{width}")
            page.get_by_role("tab", name="Claude Code").click()
            page.get_by_text("Other ways: claude mcp add-json").click()
            problems += audit(page, "the new agent connection, Claude Code's tab", width)
            page.goto("/settings/agents/")
            page.get_by_role("link", name=f"Rotate Agent {width}").click()
            page.get_by_role("button", name="Rotate connection").click()
            expect(page.locator("#new-token-panel")).to_be_focused()
            problems += audit(page, "the rotated agent connection", width)
            shot(page, f"a11y-agent-rotated-{scheme}-{width}")
        # A rotated secret's page, and the list with its Ended section open.
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/settings/developer/")
            page.get_by_role("link", name=f"Rotate Fresh {width}").click()
            page.get_by_role("button", name="Rotate token").click()
            expect(page.locator("#new-token-panel")).to_be_focused()
            problems += audit(page, "the rotated token", width)
            shot(page, f"a11y-rotated-{scheme}-{width}")
            page.goto("/settings/developer/")
            page.locator("details.inactive summary").click()
            expect(page.locator("details.inactive table")).to_be_visible()
            problems += audit(page, "the Ended section", width)
            shot(page, f"a11y-ended-{scheme}-{width}")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_pages_fit_at_200_percent_zoom(browser, live_server, world):
    """1280 px at 200% zoom lays out like 640 CSS px."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 640, "height": 450}, device_scale_factor=2
    )
    page = context.new_page()
    try:
        sign_in(page, world["owner"].email)
        wide = []
        for template in SIGNED_IN:
            page.goto(template.format(**world))
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 640:
                wide.append(f"{template}: {width}")
        assert wide == []
    finally:
        context.close()
