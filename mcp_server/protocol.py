"""Which MCP protocol a request speaks, and what that protocol asks of its answer.

Two eras share /mcp. The handshake era (2024-11-05 to 2025-11-25) negotiates a version once with
`initialize` and then sends `MCP-Protocol-Version` (from 2025-06-18; older clients send nothing).
From 2026-07-28 there is no handshake: every request carries its version and the client's
capabilities (and, optionally, who the client is) in `params._meta`, mirrors the version and the
method in the `MCP-Protocol-Version` and `Mcp-Method` headers (and a tool's name in `Mcp-Name`),
and `server/discover` says what the server speaks
(https://modelcontextprotocol.io/specification/2026-07-28/changelog). Results then carry a
`resultType`, the server's identity in `_meta`, and cacheable ones (discover, `tools/list`) a
`ttlMs` and a `cacheScope` (https://modelcontextprotocol.io/specification/2026-07-28/server/
utilities/caching). This module is pure: no Django, so every rule is testable on its own.
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

MODERN_VERSIONS = ("2026-07-28",)
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
SUPPORTED_VERSIONS = MODERN_VERSIONS + HANDSHAKE_VERSIONS  # newest first
LATEST_HANDSHAKE_VERSION = HANDSHAKE_VERSIONS[0]

# The methods each era defines (2026-07-28 removed initialize and ping, and added discover).
HANDSHAKE_METHODS = frozenset({"initialize", "ping", "tools/list", "tools/call"})
MODERN_METHODS = frozenset({"server/discover", "tools/list", "tools/call"})

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"

SERVER_INFO = {"name": "tessera", "title": "Tessera", "version": "1.0.0"}
CAPABILITIES = {"tools": {"listChanged": False}}
# How long a client may keep a cacheable result. The tool list is the same for every token (what
# a token may do is decided when a tool runs), so any cache may share it; discover's instructions
# name the token's owner and organization, so only that token's own cache may keep them.
TOOLS_LIST_CACHE = {"ttlMs": 3_600_000, "cacheScope": "public"}
DISCOVER_CACHE = {"ttlMs": 3_600_000, "cacheScope": "private"}

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
HEADER_MISMATCH, UNSUPPORTED_PROTOCOL_VERSION = -32020, -32022
# In the 2026-07-28 era a JSON-RPC error keeps an HTTP status of its own; handshake-era errors
# after the body was read stay 200, as clients of that era expect.
MODERN_STATUS = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    INVALID_PARAMS: 400,
    HEADER_MISMATCH: 400,
    UNSUPPORTED_PROTOCOL_VERSION: 400,
    METHOD_NOT_FOUND: 404,
}


class ProtocolError(Exception):
    """A request the protocol refuses: its JSON-RPC error code, message, data and HTTP status."""

    def __init__(self, code: int, message: str, data: Any = None, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.data, self.status = code, message, data, status


@dataclass(frozen=True)
class Envelope:
    """What a request says about itself: the version it speaks and, from 2026-07-28, its client."""

    version: str | None  # None: a handshake-era request that sent no version header
    modern: bool = False
    client_info: dict | None = None
    client_capabilities: dict = field(default_factory=dict)


def unsupported(requested: Any, supported: tuple[str, ...] = SUPPORTED_VERSIONS) -> ProtocolError:
    return ProtocolError(
        UNSUPPORTED_PROTOCOL_VERSION,
        f"Unsupported protocol version {requested!r}; supported: {', '.join(supported)}",
        {"supported": list(supported), "requested": requested},
    )


def envelope(method: str, params: dict, headers) -> Envelope:
    """The era and version of one request (with an id), or the ProtocolError that refuses it.

    `headers` is a case-insensitive mapping such as Django's `request.headers`."""
    header = headers.get("MCP-Protocol-Version")
    meta = params.get("_meta")
    carried = meta.get(PROTOCOL_VERSION_KEY) if isinstance(meta, dict) else None
    if header is not None and header not in SUPPORTED_VERSIONS:
        raise unsupported(header)
    if isinstance(carried, str) and carried not in MODERN_VERSIONS:
        # A version in `_meta` is the 2026 envelope; older versions are negotiated by initialize.
        raise unsupported(carried, MODERN_VERSIONS)
    if (
        header in MODERN_VERSIONS
        or carried is not None
        or (header is None and method == "server/discover")
    ):
        return _modern(method, params, headers)
    if method not in HANDSHAKE_METHODS:
        raise ProtocolError(METHOD_NOT_FOUND, _not_found(method, header), status=200)
    return Envelope(version=header)


def _modern(method: str, params: dict, headers) -> Envelope:
    """A 2026-07-28 request: its `_meta` envelope, then the headers that must mirror it."""
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        meta = {}
    missing = [key for key in (PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY) if key not in meta]
    if missing:
        raise ProtocolError(
            INVALID_PARAMS,
            f"A {MODERN_VERSIONS[0]} request carries params._meta with {', '.join(missing)}; "
            f"clients of {', '.join(HANDSHAKE_VERSIONS)} start with initialize",
        )
    version, capabilities = meta[PROTOCOL_VERSION_KEY], meta[CLIENT_CAPABILITIES_KEY]
    info = meta.get(CLIENT_INFO_KEY)
    if not isinstance(version, str):
        raise ProtocolError(INVALID_PARAMS, f"{PROTOCOL_VERSION_KEY} must be a string")
    if not isinstance(capabilities, dict):
        raise ProtocolError(INVALID_PARAMS, f"{CLIENT_CAPABILITIES_KEY} must be an object")
    if info is not None and not _implementation(info):
        raise ProtocolError(
            INVALID_PARAMS, f"{CLIENT_INFO_KEY} must be an object with a name and a version"
        )
    _mirrored(method, params, version, headers)
    if method not in MODERN_METHODS:
        raise ProtocolError(METHOD_NOT_FOUND, _not_found(method, version), status=404)
    return Envelope(version, modern=True, client_info=info, client_capabilities=capabilities)


def _mirrored(method: str, params: dict, version: str, headers) -> None:
    """The headers a 2026-07-28 request must send agree with its body, so that a gateway routing
    on them routes what the server runs."""
    if headers.get("MCP-Protocol-Version") != version:
        raise ProtocolError(
            HEADER_MISMATCH, f"The MCP-Protocol-Version header must be {version!r}, as in _meta"
        )
    if headers.get("Mcp-Method") != method:
        raise ProtocolError(HEADER_MISMATCH, f"The Mcp-Method header must be {method!r}")
    name = params.get("name")
    if (
        method == "tools/call"
        and name is not None
        and header_value(headers.get("Mcp-Name")) != name
    ):
        raise ProtocolError(HEADER_MISMATCH, f"The Mcp-Name header must be {name!r}")


def _implementation(info: Any) -> bool:
    return (
        isinstance(info, dict)
        and isinstance(info.get("name"), str)
        and isinstance(info.get("version"), str)
    )


def _not_found(method: str, version: str | None) -> str:
    """Says which era has the method when the other one does, so a client can switch."""
    if method in MODERN_METHODS and version not in MODERN_VERSIONS:
        return (
            f"Method not found: {method} belongs to protocol {MODERN_VERSIONS[0]}: send it with "
            f"that version in MCP-Protocol-Version and params._meta"
        )
    if method in HANDSHAKE_METHODS and version in MODERN_VERSIONS:
        return (
            f"Method not found: protocol {version} has no {method}; "
            f"it belongs to {', '.join(HANDSHAKE_VERSIONS)}"
        )
    return f"Method not found: {method}"


_BASE64_VALUE = re.compile(r"=\?base64\?(?P<payload>[A-Za-z0-9+/=]*)\?=")


def header_value(raw: str | None) -> str | None:
    """A header's value, unwrapped from the `=?base64?…?=` form clients use for values that are
    not plain printable ASCII; None when absent or damaged."""
    if raw is None:
        return None
    wrapped = _BASE64_VALUE.fullmatch(raw)
    if wrapped is None:
        return raw
    try:
        return base64.b64decode(wrapped["payload"], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def discover(instructions: str) -> dict:
    """The `server/discover` result (before `finish` stamps it)."""
    return {
        "supportedVersions": list(SUPPORTED_VERSIONS),
        "capabilities": CAPABILITIES,
        # The released schema carries the server's identity in `_meta` (`finish` stamps it); the
        # discover page shows it at the top as well, so both readings find it.
        "serverInfo": SERVER_INFO,
        "instructions": instructions,
        **DISCOVER_CACHE,
    }


def initialize(requested: Any, instructions: str) -> dict:
    """The `initialize` result: the client's version if we speak it, else our latest."""
    return {
        "protocolVersion": requested
        if requested in HANDSHAKE_VERSIONS
        else LATEST_HANDSHAKE_VERSION,
        "capabilities": CAPABILITIES,
        "serverInfo": SERVER_INFO,
        "instructions": instructions,
    }


def finish(request: Envelope, method: str, result: dict) -> dict:
    """A result as the request's era wants it: from 2026-07-28 every result says it is complete
    and who answered, and `tools/list` how long it keeps."""
    if not request.modern:
        return result
    if method == "tools/list":
        result = {**result, **TOOLS_LIST_CACHE}
    meta = result.get("_meta") or {}
    return {**result, "resultType": "complete", "_meta": {**meta, SERVER_INFO_KEY: SERVER_INFO}}
