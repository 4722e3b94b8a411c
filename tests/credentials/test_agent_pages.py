import html as html_lib
import json
import re
import shlex
from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import HTMX, agent_form, bearer, make_org, make_token, make_user, sign_in
from tokens import codec
from tokens.models import Token

AGENTS = "/settings/agents/"
CONNECT = "/settings/agents/new"


def json_or_text(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def secret_from(html: str) -> str:
    return re.search(r"export TESSERA_AGENT_TOKEN=(tsr_agt_[0-9A-Za-z]{36})", html).group(1)


def config_blocks(html: str) -> dict:
    """Each copy block of the one-time panel by id: parsed JSON, or the text of a command."""
    return {
        found.group(1): json_or_text(html_lib.unescape(found.group(2)))
        for found in re.finditer(
            r'<pre class="code[^"]*" id="([\w-]+)"[^>]*><code>(.*?)</code>', html, re.S
        )
    }


REFERENCE = "Bearer ${TESSERA_AGENT_TOKEN}"


def test_the_form_defaults_to_read_only_and_90_days(signed_in, org):
    form = signed_in.get(CONNECT).context["form"]
    assert form["access"].value() == "read" and form["expiry"].value() == "90"
    assert form["client"].value() == "claude-code"


def test_connecting_mints_an_agent_token_shown_once_in_ready_configuration(signed_in, user, org):
    response = signed_in.post(CONNECT, agent_form(org), **HTMX)
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    secret = secret_from(html)
    token = Token.objects.get(digest=codec.digest(secret))
    assert token.kind == "agt" and token.client == "claude-code"
    assert token.scopes == ["projects:read", "tasks:read"]
    assert 89 <= (token.expires_at - timezone.now()).days <= 90
    blocks = config_blocks(html)
    # The bare token first, then Claude Code's tab (the client chosen): the line that exports
    # the token, the command, then the other ways.
    assert list(blocks)[:5] == [
        "agent-token",
        "agent-config-env",
        "agent-config-claude",
        "agent-config-claude-json",
        "agent-config-json",
    ]
    assert blocks["agent-token"] == secret
    assert blocks["agent-config-env"] == f"export TESSERA_AGENT_TOKEN={secret}"
    assert blocks["agent-config-env-cursor"] == blocks["agent-config-env"]  # Cursor's tab
    # Those, in the one panel, are the only places the secret is.
    panel = html[html.index('id="new-token-panel"') : html.index('<section id="token-table"')]
    assert html.count(secret) == panel.count(secret) == 3
    url = "http://testserver/mcp"
    claude = {"type": "http", "url": url, "headers": {"Authorization": REFERENCE}}
    assert blocks["agent-config-claude"] == (
        f"claude mcp add --transport http --scope project tessera {url} "
        f"--header 'Authorization: {REFERENCE}'"
    )
    # add-json takes the server object itself, single-quoted so the shell leaves ${...} alone.
    command = shlex.split(blocks["agent-config-claude-json"])
    assert command[:5] == ["claude", "mcp", "add-json", "--scope", "project"]
    assert command[5] == "tessera" and json.loads(command[6]) == claude
    assert blocks["agent-config-json"] == {"mcpServers": {"tessera": claude}}
    cursor = {"url": url, "headers": {"Authorization": "Bearer ${env:TESSERA_AGENT_TOKEN}"}}
    assert blocks["agent-config-cursor"] == {"mcpServers": {"tessera": cursor}}
    vscode = blocks["agent-config-vscode"]
    (prompt,) = vscode["inputs"]
    assert prompt["type"] == "promptString" and prompt["password"] is True
    assert vscode["servers"]["tessera"] == {
        **claude,
        "headers": {"Authorization": "Bearer ${input:" + prompt["id"] + "}"},
    }
    for config_id, text in blocks.items():
        if config_id not in ("agent-token", "agent-config-env", "agent-config-env-cursor"):
            assert secret[8:] not in json.dumps(text)  # no secret in what people commit
    again = signed_in.get(AGENTS).content.decode()
    assert secret not in again and token.prefix in again
    assert AuditEvent.objects.filter(
        event="agent.connected", token_id=token.pk, actor=user
    ).exists()


def copy_buttons(html: str) -> dict:
    """Each copy block's button label, by the id of the block it copies."""
    button = r'<button[^>]*class="btn[^"]*" data-copy="([\w-]+)">([^<]*)<'
    return dict(found.groups() for found in re.finditer(button, html))


def headings(html: str, level: int = 3) -> list[str]:
    found = re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html, re.S)
    return [html_lib.unescape(h) for h in found]


def test_the_bare_token_has_its_own_copy_button_first(signed_in, org):
    html = signed_in.post(CONNECT, agent_form(org, client="vscode"), **HTMX).content.decode()
    buttons = copy_buttons(html)
    assert next(iter(buttons)) == "agent-token" and buttons["agent-token"] == "Copy token"
    # VS Code prompts for the bare token, so its configuration comes right after it.
    assert list(config_blocks(html))[:2] == ["agent-token", "agent-config-vscode"]


def test_other_clients_get_the_generic_address_and_header_before_any_client_s_snippet(
    signed_in, org
):
    html = signed_in.post(CONNECT, agent_form(org, client="other"), **HTMX).content.decode()
    blocks = config_blocks(html)
    assert list(blocks)[:2] == ["agent-token", "agent-config-url"]
    assert blocks["agent-config-url"] == "http://testserver/mcp"
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in html
    first_claude = list(blocks).index("agent-config-claude")
    assert first_claude > list(blocks).index("agent-config-url")
    # Its tab first (without JavaScript, the sections in that order), and selected.
    assert headings(html)[1:5] == ["Other client", "Claude Code", "Cursor", "VS Code"]
    assert 'data-tab="agent-panel-other" data-selected' in html


def test_the_panel_s_words_hold_for_every_client(signed_in, org):
    html = signed_in.post(CONNECT, agent_form(org), **HTMX).content.decode()
    text = " ".join(html.split())
    # VS Code keeps its own copy: the configurations do not all "only name that variable".
    assert "The configurations after it only name that variable" not in text
    assert "VS Code asks for the token once and keeps its own copy" in text
    # Only Claude Code expands ${TESSERA_AGENT_TOKEN} in .mcp.json: no "any MCP client" there.
    (title,) = [h for h in headings(html, 4) if ".mcp.json yourself" in h]
    claude_code = html[
        html.index('id="agent-panel-claude-code"') : html.index('id="agent-panel-cursor"')
    ]
    assert title in html_lib.unescape(claude_code) and "any MCP client" not in title


def test_agents_and_personal_tokens_are_listed_apart(signed_in, user, org):
    make_token(owner=user, organization=org, name="CI script")
    make_token(owner=user, organization=org, name="Cursor at work", kind="agt")
    agents_page = signed_in.get(AGENTS).content.decode()
    developer_page = signed_in.get("/settings/developer/").content.decode()
    assert "Cursor at work" in agents_page and "CI script" not in agents_page
    assert "CI script" in developer_page and "Cursor at work" not in developer_page


def test_agent_list_partial_and_revoke(signed_in, user, org):
    token, secret = make_token(owner=user, organization=org, name="Agent", kind="agt")
    table = signed_in.get(AGENTS, HTTP_HX_TARGET="token-results", **HTMX).content.decode()
    assert table.lstrip().startswith('<div id="token-results"')
    assert "<html" not in table and "Agent" in table
    url = f"/settings/agents/{token.pk}/revoke/"
    assert "Revoke connection" in signed_in.get(url, **HTMX).content.decode()
    after = signed_in.post(url, **HTMX).content.decode()
    assert "Revoked “Agent”" in after
    token.refresh_from_db()
    assert token.revoked_at is not None
    from django.test import Client

    refused = Client().post(
        "/mcp",
        '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        content_type="application/json",
        **bearer(secret),
    )
    assert refused.status_code == 401


def test_a_personal_token_is_404_on_the_agent_pages_and_vice_versa(signed_in, user, org):
    personal, _ = make_token(owner=user, organization=org)
    agent, _ = make_token(owner=user, organization=org, kind="agt")
    assert signed_in.get(f"/settings/agents/{personal.pk}/").status_code == 404
    assert signed_in.post(f"/settings/agents/{personal.pk}/revoke/").status_code == 404
    assert signed_in.get(f"/settings/developer/tokens/{agent.pk}/").status_code == 404


def test_detail_page_shows_recent_activity(signed_in, client, user, org, project):
    token, secret = make_token(owner=user, organization=org, kind="agt")
    from django.test import Client

    api = Client()
    api.post(
        f"/api/v1/projects/{project.pk}/tasks",
        {"title": "x"},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.9",
        **bearer(secret),
    )
    api.post(
        "/mcp",
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {
                "name": "create_task",
                "arguments": {"project_id": project.pk, "title": "y"},
            },
        },
        content_type="application/json",
        **bearer(secret),
    )
    html = signed_in.get(f"/settings/agents/{token.pk}/").content.decode()
    assert f"POST /api/v1/projects/{project.pk}/tasks" in html and "198.51.100.9" in html
    assert "tool create_task" in html and "Agent connected" in html


@pytest.fixture
def team(db):
    owner = make_user(email="owner@acme.test")
    admin = make_user(email="admin@acme.test")
    member = make_user(email="member@acme.test")
    viewer = make_user(email="viewer@acme.test")
    org = make_org(
        name="Acme",
        members={owner: Role.OWNER, admin: Role.ADMIN, member: Role.MEMBER, viewer: Role.VIEWER},
    )
    agent, agent_secret = make_token(
        owner=member, organization=org, name="Member's Cursor", kind="agt"
    )
    general, _ = make_token(owner=member, organization=org, name="Member's CI")
    return {
        "owner": owner,
        "admin": admin,
        "member": member,
        "viewer": viewer,
        "org": org,
        "agent": agent,
        "agent_secret": agent_secret,
        "general": general,
    }


def test_admins_see_members_agents_but_not_their_general_tokens(client, team):
    for who in ("owner", "admin"):
        sign_in(client, team[who])
        html = client.get(f"/orgs/{team['org'].slug}/agents/").content.decode()
        assert "Member&#x27;s Cursor" in html and "member@acme.test" in html
        assert "Member&#x27;s CI" not in html


def test_members_viewers_and_outsiders_get_404_on_oversight(client, team):
    outsider = make_user()
    for user in (team["member"], team["viewer"], outsider):
        sign_in(client, user)
        assert client.get(f"/orgs/{team['org'].slug}/agents/").status_code == 404
        assert (
            client.post(f"/orgs/{team['org'].slug}/agents/{team['agent'].pk}/revoke/").status_code
            == 404
        )
        assert client.get(f"/orgs/{team['org'].slug}/audit/").status_code == 404
    team["agent"].refresh_from_db()
    assert team["agent"].revoked_at is None


def test_admins_can_never_reach_a_members_general_token(client, team):
    sign_in(client, team["admin"])
    general = team["general"]
    urls = [
        f"/orgs/{team['org'].slug}/agents/{general.pk}/revoke/",
        f"/settings/developer/tokens/{general.pk}/",
        f"/settings/developer/tokens/{general.pk}/revoke/",
        f"/settings/agents/{general.pk}/",
        f"/settings/agents/{general.pk}/revoke/",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        if url.endswith("/revoke/"):
            assert client.post(url).status_code == 404, url
    general.refresh_from_db()
    assert general.revoked_at is None


def test_the_navigation_shows_oversight_only_to_those_who_may_use_it(client, team):
    sign_in(client, team["admin"])
    assert f"/orgs/{team['org'].slug}/agents/" in client.get(AGENTS).content.decode()
    sign_in(client, team["member"])
    assert "/orgs/" not in client.get(AGENTS).content.decode()


def test_an_admin_revokes_a_members_agent_the_member_is_emailed_and_the_log_says_who(client, team):
    sign_in(client, team["admin"])
    url = f"/orgs/{team['org'].slug}/agents/{team['agent'].pk}/revoke/"
    assert "Revoke connection" in client.get(url, **HTMX).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        notice = client.post(url, **HTMX).content.decode()
    assert notice.lstrip().startswith(f'<tr id="token-{team["agent"].pk}" class="row-notice"')
    assert "They have been emailed" in notice
    team["agent"].refresh_from_db()
    assert team["agent"].revoked_by == team["admin"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["member@acme.test"]
    assert (
        "admin@acme.test" in mail.outbox[0].body and team["agent_secret"] not in mail.outbox[0].body
    )
    event = AuditEvent.objects.get(event="token.revoked", token_id=team["agent"].pk)
    assert event.actor == team["admin"] and event.detail["by"] == "admin"
    assert event.subject == team["member"]
    from django.test import Client

    refused = Client().post(
        "/mcp",
        '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        content_type="application/json",
        **bearer(team["agent_secret"]),
    )
    assert refused.status_code == 401


def test_a_member_revoking_their_own_agent_sends_no_email(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, kind="agt")
    signed_in.post(f"/settings/agents/{token.pk}/revoke/")
    assert mail.outbox == []
    assert AuditEvent.objects.get(event="token.revoked").detail["by"] == "owner"


def test_oversight_page_full_and_partial(client, team):
    sign_in(client, team["owner"])
    full = client.get(f"/orgs/{team['org'].slug}/agents/")
    assert "<html" in full.content.decode()
    partial = client.get(
        f"/orgs/{team['org'].slug}/agents/", HTTP_HX_TARGET="token-results", **HTMX
    )
    assert partial.content.decode().lstrip().startswith('<div id="token-results"')
    row = client.get(f"/orgs/{team['org'].slug}/agents/?row={team['agent'].pk}", **HTMX)
    assert row.content.decode().lstrip().startswith(f'<tr id="token-{team["agent"].pk}"')


def test_the_audit_log_filters_and_paginates(client, team):
    from audit.services import audit_record

    for n in range(60):
        audit_record(
            event="api.write",
            token=team["agent"],
            actor_id=team["member"].pk,
            action=f"POST /api/v1/x/{n}",
            status=201,
        )
    old = audit_record(event="api.write", token=team["general"], action="POST /old", status=201)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    sign_in(client, team["admin"])
    base = f"/orgs/{team['org'].slug}/audit/"
    first = client.get(base)
    assert first.context["page"].paginator.count == 63  # 2 creations, 60 writes, 1 old write
    assert len(first.context["page"].object_list) == 50
    by_token = client.get(base, {"token": team["general"].prefix})
    assert {e.token_id for e in by_token.context["page"].object_list} == {team["general"].pk}
    by_event = client.get(base, {"event": "agent.connected"})
    assert [e.event for e in by_event.context["page"].object_list] == ["agent.connected"]
    recent = client.get(base, {"since": (timezone.localdate() - timedelta(days=1)).isoformat()})
    assert "POST /old" not in recent.content.decode()
    bad = client.get(base, {"since": "2026-02-01", "until": "2026-01-01"})
    assert "Pick a date on or after the start date." in bad.content.decode()
    # An invalid range shows no events at all, rather than the unfiltered log as if it matched.
    assert bad.context["page"] is None and "Fix the filters above" in bad.content.decode()
    assert "POST /old" not in bad.content.decode()
    by_member = client.get(base, {"member": team["owner"].pk})
    assert by_member.context["page"].paginator.count == 0
    partial = client.get(base, {"page": 2}, HTTP_HX_TARGET="audit-card", **HTMX)
    assert partial.content.decode().lstrip().startswith('<section id="audit-card"')
    bad_partial = client.get(base, {"until": "9999-01-01"}, HTTP_HX_TARGET="audit-card", **HTMX)
    assert "Pick a date up to today." in bad_partial.content.decode()  # the errors swap in too
