"""Request facts every app needs and only configuration can settle: where the client is."""

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A page request as the type checker sees it: django-htmx adds `htmx`."""

    htmx: HtmxDetails


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The client's address: the socket's, or behind TRUSTED_PROXY_HOPS proxies of our own, the
    address the outermost of them saw, counted from the right of X-Forwarded-For (what a client
    writes further left is not to be trusted). Without the setting the header is ignored."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            try:
                return str(ipaddress.ip_address(forwarded[-hops].strip("[]")))
            except ValueError:
                pass
    return meta.get("REMOTE_ADDR")


def request_origin(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Where a request came from, as services and the audit log take it: `ip` and
    `user_agent`."""
    return {"ip": client_ip(meta), "user_agent": meta.get("HTTP_USER_AGENT", "")}


# Where tokens authenticate (tokens.middleware), and nowhere else: the JSON API and MCP.
API_PREFIX = "/api/"
MCP_PATH = "/mcp"
# RFC 9728 §3.1: the resource's path goes after the well-known name.
PROTECTED_RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource" + MCP_PATH
TOKEN_PATHS = (API_PREFIX, MCP_PATH)


def is_token_path(path: str) -> bool:
    return path.startswith(TOKEN_PATHS)


def is_mcp_path(path: str) -> bool:
    return path.startswith(MCP_PATH)
