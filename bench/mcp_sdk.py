"""What the MCP SDK's server side would cost on /mcp, beside what our handler costs.

Times one 2026-07-28 `tools/list` (the same five tools, the same JSON) answered by:
  - ours: the whole Django request through every middleware, bearer token checked (one query);
  - ours, the protocol alone: parse, `protocol.envelope`, the tool list, `protocol.finish`, dump;
  - the SDK's modern ASGI entry (`handle_modern_request`) in a running event loop, as an ASGI
    deployment would run it, and bridged the two ways a synchronous Django view could call it
    (`asgiref.sync.async_to_sync`, which Django itself uses, and `anyio.run` per request);
  - the SDK's stateless session manager for a handshake-era (2025-11-25) request, in a loop.
The SDK figures leave out Django, authentication and the database: they are the protocol layer
alone, which is what adopting it would add or replace. Medians and p90 in microseconds.

    DATABASE_URL=sqlite:///var/bench-mcp.sqlite3 python bench/mcp_sdk.py [--n 2000]
"""

import argparse
import contextlib
import io
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ["API_RATE_LIMIT_PER_MINUTE"] = "0"  # thousands of calls from one token

import anyio
import django

django.setup()
logging.getLogger("mcp").setLevel(logging.WARNING)  # a line per request would be timed too

from asgiref.sync import async_to_sync  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from mcp.server.lowlevel.server import Server  # noqa: E402
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager  # noqa: E402
from mcp_types import ListToolsResult  # noqa: E402

from mcp_server import protocol  # noqa: E402
from mcp_server.tools import definitions  # noqa: E402

V = "2026-07-28"
META = {
    protocol.PROTOCOL_VERSION_KEY: V,
    protocol.CLIENT_INFO_KEY: {"name": "bench", "version": "1"},
    protocol.CLIENT_CAPABILITIES_KEY: {},
}
MODERN_BODY = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}}
).encode()
LEGACY_BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
HEADERS = {"MCP-Protocol-Version": V, "Mcp-Method": "tools/list"}


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * len(ordered))]
    return f"median {statistics.median(ordered):8.1f} µs   p90 {p90:8.1f} µs"


def timed(n: int, once) -> list[float]:
    for _ in range(min(200, n)):  # warm up
        once()
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        once()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def ours_whole_request(n: int) -> list[float]:
    from tests.factories import make_org, make_token, make_user

    call_command("migrate", verbosity=0)
    with contextlib.redirect_stdout(io.StringIO()):  # the console email about the new token
        owner = make_user()
        organization = make_org(members={owner: "owner"})
        _, secret = make_token(owner=owner, organization=organization, kind="agt")
    client = Client(SERVER_NAME="127.0.0.1")
    extra = {
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        "HTTP_MCP_PROTOCOL_VERSION": V,
        "HTTP_MCP_METHOD": "tools/list",
    }

    def once():
        response = client.post("/mcp", MODERN_BODY, content_type="application/json", **extra)
        assert response.status_code == 200, response.content

    return timed(n, once)


def ours_protocol_alone(n: int) -> list[float]:
    def once():
        message = json.loads(MODERN_BODY)
        era = protocol.envelope(message["method"], message["params"], HEADERS)
        result = {"tools": list(definitions())}
        json.dumps(
            {"jsonrpc": "2.0", "id": 1, "result": protocol.finish(era, "tools/list", result)}
        )

    return timed(n, once)


def sdk_server() -> Server:
    tools = list(definitions())

    async def list_tools(ctx, params):
        return ListToolsResult.model_validate(
            {"tools": tools, "ttlMs": 3_600_000, "cacheScope": "public"}
        )

    return Server("tessera", version="1.0.0", on_list_tools=list_tools)


def asgi_call(body: bytes, version: str):
    """An ASGI scope, receive and send for one POST; returns them and the sent messages."""
    headers = [
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", version.encode()),
        (b"mcp-method", b"tools/list"),
        (b"host", b"127.0.0.1"),
    ]
    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": headers,
             "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 80)}  # fmt: skip
    sent: list = []
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()

    async def send(message):
        sent.append(message)

    return scope, receive, send, sent


def status_of(sent: list) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def _run_loop(manager, body, version, n, samples):
    async with manager.run():
        for i in range(n + min(200, n)):
            scope, receive, send, sent = asgi_call(body, version)
            start = time.perf_counter_ns()
            await manager.handle_request(scope, receive, send)
            if i >= min(200, n):
                samples.append((time.perf_counter_ns() - start) / 1000)
            assert status_of(sent) == 200, sent


def sdk_in_a_loop(n: int, body: bytes, version: str) -> list[float]:
    manager = StreamableHTTPSessionManager(app=sdk_server(), json_response=True, stateless=True)
    samples: list[float] = []
    anyio.run(_run_loop, manager, body, version, n, samples)
    return samples


def sdk_bridged(n: int, bridge) -> list[float]:
    """The modern entry called from synchronous code, one bridge crossing per request. The
    manager's task group only serves the handshake era; the modern entry needs none."""
    from mcp.server._streamable_http_modern import handle_modern_request

    server = sdk_server()

    async def one():
        scope, receive, send, sent = asgi_call(MODERN_BODY, V)
        await handle_modern_request(server, None, True, {}, scope, receive, send)
        assert status_of(sent) == 200, sent

    return timed(n, lambda: bridge(one))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    rows = [
        ("ours: whole Django request (auth, middleware)", lambda: ours_whole_request(n)),
        ("ours: protocol layer alone", lambda: ours_protocol_alone(n)),
        ("SDK 2026 entry, in a running loop", lambda: sdk_in_a_loop(n, MODERN_BODY, V)),
        ("SDK 2026 entry via async_to_sync", lambda: sdk_bridged(n, lambda f: async_to_sync(f)())),
        ("SDK 2026 entry via anyio.run", lambda: sdk_bridged(n, anyio.run)),
        (
            "SDK stateless 2025-11-25, in a loop",
            lambda: sdk_in_a_loop(n, LEGACY_BODY, "2025-11-25"),
        ),
    ]
    print(f"tools/list, {n} requests each, Python {sys.version.split()[0]}")
    for name, measure in rows:
        print(f"{name:48} {summary(measure())}")


if __name__ == "__main__":
    main()
