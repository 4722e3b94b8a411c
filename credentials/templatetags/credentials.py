import json
import math
import re
import shlex

from django import template
from django.utils import timezone
from django.utils.html import format_html

from tokens.permissions import SCOPES, describe_access, effective_scopes

register = template.Library()


@register.filter
def access(scopes) -> str:
    return describe_access(scopes)


@register.filter
def email_breaks(email: str) -> str:
    """An address that wraps before a dot or its @, never in the middle of a word."""
    first, *rest = re.split(r"(?=[.@])", str(email))
    html = format_html("{}", first)
    for part in rest:
        html = format_html("{}<wbr>{}", html, part)
    return html


@register.simple_tag
def projects_summary(token) -> str:
    """A project token's project; all projects, or the chosen ones by name (prefetched), or a
    note when none are left."""
    if token.is_project_token:
        return (
            token.project.name
            if token.project_id
            else format_html('<span class="muted">{}</span>', "Project deleted")
        )
    if token.all_projects:
        return "All projects"
    names = [project.name for project in token.projects.all()]
    if not names:
        return format_html('<span class="muted">{}</span>', "None left")
    return ", ".join(names)


@register.simple_tag
def role_limit(token) -> str:
    """A note, in words, when the owner's current role allows less than the token's scopes."""
    effective = effective_scopes(token)
    if effective == frozenset(token.scopes):
        return ""
    if token.role is None:
        return format_html(
            '<span class="muted small block">{}</span>', "You are no longer in this organization"
        )
    allowed = ", ".join(scope for scope in SCOPES if scope in effective) or "nothing"
    return format_html(
        '<span class="muted small block">Limited by your role ({}): {}</span>', token.role, allowed
    )


def exact(moment) -> str:
    return timezone.localtime(moment).strftime("%b %-d, %Y %H:%M %Z")


@register.simple_tag
def token_status(token) -> str:
    """One badge for where a token stands: revoked, replaced, expired, still working after a
    rotation, expiring soon, days left, or no expiry. The exact time is in the text beside it,
    not only in a tooltip."""
    state = token.state()
    if state == token.State.REVOKED:
        return _badge("badge-danger", "Revoked", token.revoked_at)
    if state == token.State.ROTATED:
        return _badge("badge-neutral", "Replaced", token.expires_at)
    if state == token.State.EXPIRED:
        return _badge("badge-danger", "Expired", token.expires_at)
    if token.expires_at is None:
        return format_html('<span class="badge badge-neutral">{}</span>', "No expiry")
    if token.in_overlap:
        return _badge("badge-warning", "Replaced, works until", token.expires_at)
    days = math.ceil((token.expires_at - timezone.now()).total_seconds() / 86400)
    text = "Expires within a day" if days <= 1 else f"Expires in {days} days"
    return _badge("badge-warning" if days <= 7 else "badge-neutral", text, token.expires_at)


def _badge(tone: str, text: str, moment) -> str:
    return format_html(
        '<span class="badge {}">{}</span> <span class="muted small block">{}</span>',
        tone,
        text,
        exact(moment),
    )


@register.simple_tag(takes_context=True)
def ended_by(context, token) -> str:
    """Who revoked or rotated it, in words, under its status; nothing for an expiry."""
    person = token.ended_by if token.revoked_at or token.rotated_at else None
    if person is None:
        return ""
    user = context.get("user")
    who = "you" if user is not None and person.pk == user.pk else person.email
    verb = "Revoked" if token.revoked_at else "Rotated"
    return format_html('<span class="muted small block email">{} by {}</span>', verb, who)


@register.simple_tag(takes_context=True)
def token_links(context, token) -> dict:
    """Where a row's or a page's actions go, on the page's surface (credentials.surfaces.Place)."""
    return context["place"].links(token)


@register.simple_tag(takes_context=True)
def token_title(context, token, quoted: bool = False) -> str:
    """How an action names the token: “Name (tsr_pat_abc…)”, or on someone else's, whose it is
    too. The prefix tells apart the two rows of one name that a rotation's overlap leaves."""
    name = f"“{token.name}”" if quoted else token.name
    if context["surface"].names_owner and token.owner is not None:
        name = f"{token.owner.email}’s {name}"
    return f"{name} ({token.prefix}…)"


# Where an agent's token lives: with the client, never in a file that is committed. Claude Code and
# Cursor read it from one environment variable, which their configurations below only name; VS Code
# asks for it once and keeps its own copy. So none of the configurations holds the secret, and a
# project's .mcp.json or .vscode/mcp.json can be committed as it is.
AGENT_VARIABLE = "TESSERA_AGENT_TOKEN"


def _servers(key: str, entry: dict, **more: object) -> str:
    return json.dumps({**more, key: {"tessera": entry}}, indent=2, ensure_ascii=False)


def _claude_code(url: str, environment: dict) -> dict:
    """Claude Code expands `${VAR}` in a project's .mcp.json when it connects."""
    bearer = f"Bearer ${{{AGENT_VARIABLE}}}"
    server = {"type": "http", "url": url, "headers": {"Authorization": bearer}}
    # `claude mcp add-json` takes the server itself, not an "mcpServers" wrapper; single quotes
    # keep the shell from expanding the variable, so the file gets the reference.
    add_json = json.dumps(server, separators=(",", ":"))
    return {
        "client": "claude-code",
        "label": "Claude Code",
        "blocks": [
            environment,
            {
                "id": "agent-config-claude",
                "title": "2. Add it to this project’s .mcp.json",
                "file": "shell",
                "text": f"claude mcp add --transport http --scope project tessera "
                f"{shlex.quote(url)} --header {shlex.quote('Authorization: ' + bearer)}",
                "button": "Copy command",
            },
        ],
        "more_label": "Other ways: claude mcp add-json, or .mcp.json by hand",
        "more": [
            {
                "id": "agent-config-claude-json",
                "title": "The same with claude mcp add-json",
                "file": "shell",
                "text": f"claude mcp add-json --scope project tessera {shlex.quote(add_json)}",
                "button": "Copy add-json command",
            },
            {
                "id": "agent-config-json",
                "title": f"Or write .mcp.json yourself (Claude Code fills in "
                f"${{{AGENT_VARIABLE}}} when it connects)",
                "file": ".mcp.json",
                "text": _servers("mcpServers", server),
                "button": "Copy JSON",
            },
        ],
    }


def _cursor(url: str, environment: dict) -> dict:
    """Cursor spells a variable `${env:VAR}`."""
    cursor = {"url": url, "headers": {"Authorization": f"Bearer ${{env:{AGENT_VARIABLE}}}"}}
    return {
        "client": "cursor",
        "label": "Cursor",
        "blocks": [
            {**environment, "id": "agent-config-env-cursor"},
            {
                "id": "agent-config-cursor",
                "title": "2. Add it to ~/.cursor/mcp.json, or to a project’s .cursor/mcp.json",
                "file": "mcp.json",
                "text": _servers("mcpServers", cursor),
                "button": "Copy Cursor JSON",
            },
        ],
    }


def _vscode(url: str) -> dict:
    """VS Code prompts for the value once (`inputs`, hidden as a password) and keeps it in its
    secret storage."""
    prompt = {
        "type": "promptString",
        "id": "tessera-token",
        "description": "Tessera agent token (tsr_agt_…)",
        "password": True,
    }
    vscode = {
        "type": "http",
        "url": url,
        "headers": {"Authorization": "Bearer ${input:tessera-token}"},
    }
    return {
        "client": "vscode",
        "label": "VS Code",
        "blocks": [
            {
                "id": "agent-config-vscode",
                "title": "Add it to .vscode/mcp.json. VS Code asks for the token once (paste the "
                "token above) and keeps it hidden.",
                "file": ".vscode/mcp.json",
                "text": _servers("servers", vscode, inputs=[prompt]),
                "button": "Copy VS Code JSON",
            }
        ],
    }


@register.simple_tag(takes_context=True)
def agent_setup(context, agent, secret: str) -> dict:
    """What the one-time panel of a new agent token offers to copy: the bare token, then one tab
    per client (the one the agent was made for selected, and first without JavaScript). Only
    the token and the lines that export it hold the secret; every configuration names the
    variable or prompts for it."""
    url = str(context["mcp_url"])
    token = {
        "id": "agent-token",
        "title": "The token",
        "file": "token",
        "text": secret,
        "button": "Copy token",
        "wrap": True,  # one unbreakable word: it wraps rather than scrolls
    }
    environment = {
        "id": "agent-config-env",
        "title": f"1. Set {AGENT_VARIABLE} in your shell profile or a secret manager",
        "file": "shell",
        "text": f"export {AGENT_VARIABLE}={secret}",
        "button": "Copy export line",
    }
    other = {
        "client": "other",
        "label": "Other client",
        "blocks": [
            {
                "id": "agent-config-url",
                "title": "The server’s address (streamable HTTP)",
                "file": "URL",
                "text": url,
                "button": "Copy address",
                # The template says how to send the token: `Authorization: Bearer <token>`.
                "header": True,
            }
        ],
    }
    tabs = [_claude_code(url, environment), _cursor(url, environment), _vscode(url), other]
    chosen = agent.client if any(tab["client"] == agent.client for tab in tabs) else "claude-code"
    for tab in tabs:
        tab["selected"] = tab["client"] == chosen
    return {
        "token": token,
        "tabs": tabs,
        "panels": sorted(tabs, key=lambda tab: not tab["selected"]),
    }
