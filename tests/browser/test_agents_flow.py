import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import make_org, make_project, make_user

from .conftest import expect_clipboard, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def mcp_call(base_url: str, secret: str) -> int:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "list_projects", "arguments": {}}}).encode()  # fmt: skip
    request = urllib.request.Request(
        f"{base_url}/mcp", data=body, method="POST",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["result"]["isError"] is False
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def acme(db):
    admin = make_user(email="admin@acme.test")
    member = make_user(email="member@acme.test")
    org = make_org(name="Acme", members={admin: Role.ADMIN, member: Role.MEMBER})
    make_project(organization=org, name="Website")
    make_project(organization=org, name="Mobile app")
    return org


def test_connect_an_agent_copy_its_config_then_an_admin_revokes_it(page, live_server, shot, acme):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, "member@acme.test")
    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_role("link", name="Connect an agent").click()
    page.wait_for_url("**/settings/agents/new")
    expect(page.get_by_label("Read-only")).to_be_checked()
    expect(page.get_by_label("Expires")).to_have_value("90")
    shot(page, "11-agents-empty")

    page.get_by_label("Cursor").check()
    page.get_by_label("Name").fill("Cursor at work")
    page.get_by_label("Only selected projects").check()
    page.get_by_label("Website").check()
    page.get_by_role("button", name="Connect agent").click()
    json_block = page.locator("#agent-config-json")
    expect(json_block).to_contain_text("${TESSERA_AGENT_TOKEN}")
    shot(page, "12-agent-connected")

    # The secret is in the token block and the line that exports it, nowhere else; what is
    # shown is what is copied (the copy lands after the click returns, so wait for it).
    secret = page.locator("#agent-token").inner_text()
    assert secret.startswith("tsr_agt_")
    page.get_by_role("button", name="Copy token").click()
    expect_clipboard(page, secret)
    export = page.locator("#agent-config-env").inner_text()
    assert export == f"export TESSERA_AGENT_TOKEN={secret}"
    page.get_by_role("button", name="Copy export line").click()  # Cursor's tab, the one chosen
    expect_clipboard(page, export)
    page.get_by_role("tab", name="Claude Code").click()
    page.get_by_text("Other ways: claude mcp add-json").click()
    shown = json_block.inner_text()
    page.get_by_role("button", name="Copy JSON").click()
    expect_clipboard(page, shown)
    server = json.loads(shown)["mcpServers"]["tessera"]
    assert server["url"] == f"{live_server.url}/mcp"
    assert server["headers"] == {"Authorization": "Bearer ${TESSERA_AGENT_TOKEN}"}
    assert secret not in page.locator("#agent-config-cursor").inner_text()
    command = (
        f"claude mcp add --transport http --scope project tessera {live_server.url}/mcp "
        "--header 'Authorization: Bearer ${TESSERA_AGENT_TOKEN}'"
    )
    expect(page.locator("#agent-config-claude")).to_have_text(command)
    page.get_by_role("button", name="Copy command", exact=True).click()
    expect_clipboard(page, command)
    assert mcp_call(live_server.url, secret) == 200

    page.reload()
    row = page.locator("#token-table tbody tr").first
    expect(row).to_contain_text("Cursor")
    expect(row).to_contain_text("Website")
    assert secret not in page.content()
    row.get_by_role("link", name="Cursor at work", exact=True).click()
    expect(page.get_by_text("Recent activity")).to_be_visible()
    shot(page, "13-agent-detail")
    assert page.console_errors == []

    sign_in(page, "admin@acme.test")
    page.get_by_role("link", name="Organization").click()
    page.wait_for_url(f"**/orgs/{acme.slug}/agents/")
    shot(page, "14-oversight")
    page.get_by_role("link", name="Revoke member@acme.test’s Cursor at work").click()
    expect(page.get_by_role("button", name="Revoke connection")).to_be_visible()
    page.get_by_role("button", name="Revoke connection").click()
    expect(page.locator("#token-table tr.row-notice")).to_contain_text("They have been emailed")
    shot(page, "15-oversight-revoked")
    assert mcp_call(live_server.url, secret) == 401

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="Token revoked")).to_be_visible()
    expect(page.locator("#audit-results")).to_contain_text("by admin (admin@acme.test)")
    shot(page, "16-audit-log")
    assert page.console_errors == []
