"""Opaque cursors for the listing tools, in MCP's pagination shape (https://modelcontextprotocol.io/
specification/2025-11-25/server/utilities/pagination): a page's `nextCursor` names where it ended
(keyset, so rows added or removed meanwhile neither repeat nor skip), and only the tool that
made it reads it back. Clients must not parse it; nothing in it is secret."""

import base64
import binascii
import json
from typing import Any


class BadCursor(ValueError):
    """A cursor this tool did not make, or one damaged on the way."""


def make(tool: str, position: tuple) -> str:
    raw = json.dumps([tool, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read(cursor: str, tool: str, shape: tuple[type, ...]) -> tuple[Any, ...]:
    """The position `make` put in `cursor` for `tool`, each part of the type `shape` names."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        data = None
    if (
        not isinstance(data, list)
        or len(data) != len(shape) + 1
        or data[0] != tool
        or not all(type(part) is kind for part, kind in zip(data[1:], shape, strict=True))
    ):
        raise BadCursor(f"not a cursor from {tool}; pass the nextCursor of its last answer")
    return tuple(data[1:])
