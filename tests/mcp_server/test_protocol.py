"""mcp_server.protocol on its own: which era a request speaks, without Django or a database."""

import pytest

from mcp_server import protocol
from mcp_server.protocol import Envelope, ProtocolError, envelope, finish, header_value
from tests.imports import top_level_imports

META = {protocol.PROTOCOL_VERSION_KEY: "2026-07-28", protocol.CLIENT_CAPABILITIES_KEY: {}}
MODERN = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}


def test_protocol_imports_nothing_but_the_standard_library():
    assert top_level_imports(protocol) <= {"base64", "binascii", "re", "dataclasses", "typing"}


@pytest.mark.parametrize("header", [None, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"])
def test_a_request_without_a_meta_envelope_speaks_the_handshake_era(header):
    headers = {} if header is None else {"MCP-Protocol-Version": header}
    assert envelope("tools/list", {}, headers) == Envelope(version=header)


def test_a_2026_request_gives_its_version_and_client():
    info = {"name": "agent", "version": "2"}
    meta = {**META, protocol.CLIENT_INFO_KEY: info}
    found = envelope("tools/list", {"_meta": meta}, MODERN)
    assert found.modern and found.version == "2026-07-28" and found.client_info == info


@pytest.mark.parametrize(
    ("method", "params", "headers", "code", "status"),
    [
        ("tools/list", {}, {"MCP-Protocol-Version": "1999-01-01"}, -32022, 400),
        ("tools/list", {"_meta": META}, {}, -32020, 400),
        ("tools/list", {}, {"MCP-Protocol-Version": "2026-07-28"}, -32602, 400),
        ("server/discover", {}, {"MCP-Protocol-Version": "2025-06-18"}, -32601, 200),
        ("ping", {"_meta": META}, {**MODERN, "Mcp-Method": "ping"}, -32601, 404),
    ],
)
def test_what_each_era_refuses_and_with_which_status(method, params, headers, code, status):
    with pytest.raises(ProtocolError) as refused:
        envelope(method, params, headers)
    assert (refused.value.code, refused.value.status) == (code, status)


def test_header_values_unwrap_base64_and_refuse_damaged_ones():
    assert header_value("list_tasks") == "list_tasks"
    assert header_value("=?base64?w6l0w6k=?=") == "été"
    assert header_value("=?base64?not base64?=") == "=?base64?not base64?="  # not the wrapped form
    assert header_value("=?base64?////?=") is None
    assert header_value(None) is None


def test_finish_leaves_handshake_results_as_they_are_and_stamps_2026_ones():
    legacy = Envelope(version="2025-11-25")
    assert finish(legacy, "tools/list", {"tools": []}) == {"tools": []}
    modern = Envelope(version="2026-07-28", modern=True)
    stamped = finish(modern, "tools/call", {"content": [], "_meta": {"trace": 1}})
    assert stamped["resultType"] == "complete" and "ttlMs" not in stamped
    assert stamped["_meta"] == {"trace": 1, protocol.SERVER_INFO_KEY: protocol.SERVER_INFO}
