import json

from django import template
from django.urls import reverse

register = template.Library()


def _servers(key: str, entry: dict) -> str:
    return json.dumps({key: {"tessera": entry}}, indent=2)


@register.simple_tag(takes_context=True)
def agent_configs(context, agent, secret: str) -> list[dict]:
    """Ready-to-paste configuration for each MCP client, in the shape that client documents;
    the one the agent was made for comes first."""
    request = context["request"]
    url = request.build_absolute_uri(reverse("mcp"))
    headers = {"Authorization": f"Bearer {secret}"}
    http = {"type": "http", "url": url, "headers": headers}
    command = (
        f'claude mcp add --transport http tessera {url} --header "Authorization: Bearer {secret}"'
    )
    configs = [
        {
            "client": "claude-code",
            "id": "agent-config-claude",
            "title": "Claude Code: run this command",
            "text": command,
            "button": "Copy command",
        },
        {
            "client": "claude-code",
            "id": "agent-config-json",
            "title": "Claude Code, or any MCP client: .mcp.json",
            "text": _servers("mcpServers", http),
            "button": "Copy JSON",
        },
        {
            "client": "cursor",
            "id": "agent-config-cursor",
            "title": "Cursor: ~/.cursor/mcp.json",
            "text": _servers("mcpServers", {"url": url, "headers": headers}),
            "button": "Copy Cursor JSON",
        },
        {
            "client": "vscode",
            "id": "agent-config-vscode",
            "title": "VS Code: .vscode/mcp.json",
            "text": _servers("servers", http),
            "button": "Copy VS Code JSON",
        },
    ]
    chosen = [c for c in configs if c["client"] == agent.client]
    return chosen + [c for c in configs if c["client"] != agent.client]
