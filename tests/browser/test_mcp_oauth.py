"""The official MCP Python SDK connects through MCP authorization, as Claude Code or Inspector
would: a 401, discovery, registration (dynamic, or a client metadata document), a person who
signs in and approves in Chromium, the code exchanged, tools listed and called; then a refresh,
a replayed refresh token and a revocation in the Agents tab.

The SDK runs in a thread of its own (its own event loop); Playwright's sync API stays in the
test's thread. The two meet through queues: the SDK hands over the URL it would open in a
browser, the test approves there and hands back what the redirect carried.
"""

import asyncio
import queue
import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata, OAuthToken
from playwright.sync_api import expect

import oauth.clients
from core.fetch import fetch_json
from orgs.models import Role
from tests.factories import make_org, make_project, make_user
from tests.tls import private_ca
from tokens.models import Token

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLBACK = "http://127.0.0.1:47125/callback"


class Memory:
    """The SDK's token storage, kept where the test can read it."""

    def __init__(self):
        self.tokens: OAuthToken | None = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info):
        self.client = info


class Agent:
    """An MCP client session through the SDK with OAuth, driven step by step from the test."""

    def __init__(self, url: str, *, metadata_url: str | None = None):
        self.url, self.storage = url, Memory()
        self.to_browser: queue.Queue[str] = queue.Queue()
        self.from_browser: queue.Queue[AuthorizationCodeResult] = queue.Queue()
        self.steps: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        metadata = OAuthClientMetadata(
            client_name="SDK agent",
            redirect_uris=[CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        )
        self.provider = OAuthClientProvider(
            url,
            metadata,
            self.storage,
            redirect_handler=self._open,
            callback_handler=self._callback,
            client_metadata_url=metadata_url,
        )
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.done = self.pool.submit(asyncio.run, self._run())

    async def _open(self, authorization_url: str) -> None:
        self.to_browser.put(authorization_url)

    async def _callback(self) -> AuthorizationCodeResult:
        return await asyncio.to_thread(self.from_browser.get, timeout=30)

    async def _run(self):
        async with httpx2.AsyncClient(auth=self.provider, timeout=20) as http:
            transport = streamable_http_client(self.url, http_client=http, terminate_on_close=False)
            async with Client(transport) as client:
                while (step := await asyncio.to_thread(self.steps.get, timeout=60)) is not None:
                    try:
                        self.results.put(("ok", await step(client)))
                    except Exception as exc:
                        self.results.put(("error", exc))

    def do(self, step):
        self.steps.put(step)
        kind, value = self.results.get(timeout=60)
        if kind == "error":
            raise value
        return value

    def close(self):
        self.steps.put(None)
        self.done.result(timeout=30)
        self.pool.shutdown()


def approve_in_browser(page, agent: Agent, *, access: str = "Read & write") -> str:
    """Open the URL the SDK handed over, approve, and hand back the redirect's parameters."""
    url = agent.to_browser.get(timeout=30)
    landed: list[str] = []

    def callback(route):
        landed.append(route.request.url)
        route.fulfill(status=200, body="You can close this window.")

    page.route("http://127.0.0.1:47125/**", callback)
    page.goto(url)
    expect(page.get_by_role("heading", name="Connect an agent to Tessera")).to_be_visible()
    expect(page.get_by_text("unverified name")).to_be_visible()
    page.get_by_label(access).check()
    page.get_by_role("button", name="Approve and connect").click()
    expect(page.get_by_text("You can close this window.")).to_be_visible()
    query = {k: v[0] for k, v in parse_qs(urlsplit(landed[0]).query).items()}
    agent.from_browser.put(
        AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))
    )
    return landed[0]


def mcp_status(world, access_token: str) -> int:
    """The status of a tools/list sent with `access_token` by hand, outside the SDK."""
    headers = {"Authorization": f"Bearer {access_token}", "MCP-Protocol-Version": "2025-11-25"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx2.post(world["url"], json=body, headers=headers).status_code


def refresh_by_hand(world, agent: Agent, refresh_token: str):
    """A refresh outside the SDK, as someone holding a copy of the refresh token would try."""
    body = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": agent.storage.client.client_id,
    }
    return httpx2.post(world["url"].removesuffix("/mcp") + "/oauth/token", data=body)


@pytest.fixture
def world(live_server):
    person = make_user(email="ada@example.com")
    acme = make_org(name="Acme", members={person: Role.MEMBER})
    make_project(organization=acme, name="Website")
    return {"url": f"{live_server.url}/mcp", "person": person}


async def list_and_call(client):
    tools = await client.list_tools()
    projects = await client.call_tool("list_projects", {})
    created = await client.call_tool(
        "create_task",
        {"project_id": projects.structured_content["projects"][0]["id"], "title": "From OAuth"},
    )
    return [tool.name for tool in tools.tools], projects, created


def connect(page, world, **agent_options) -> tuple[Agent, str]:
    sign_in(page, "ada@example.com")
    agent = Agent(world["url"], **agent_options)
    agent.steps.put(list_and_call)
    redirect = approve_in_browser(page, agent)
    kind, value = agent.results.get(timeout=60)
    assert kind == "ok", value
    names, projects, created = value
    assert "list_projects" in names and "create_task" in names
    assert projects.structured_content["projects"][0]["name"] == "Website"
    assert created.is_error is False
    return agent, redirect


def test_the_sdk_connects_by_dynamic_registration_refreshes_and_is_revoked_in_the_agents_tab(
    page, world
):
    agent, redirect = connect(page, world)
    try:
        assert "iss=" in redirect
        connection = Token.objects.get(owner=world["person"])
        assert connection.client == Token.Client.OAUTH and connection.name == "SDK agent"
        first = agent.storage.tokens
        assert first.access_token.startswith("tsr_agt_") and first.refresh_token.startswith(
            "tsr_rft_"
        )

        # An hour later: the server has ended the access token; the SDK refreshes on its own.
        Token.objects.filter(pk=connection.pk).update(secret_expires_at=connection.created_at)
        agent.provider.context.token_expiry_time = time.time() - 1
        # (a tool call: 2026-07-28 lets the SDK answer tools/list from its cache)
        assert agent.do(lambda client: client.call_tool("list_projects", {})).is_error is False
        second = agent.storage.tokens
        assert second.access_token != first.access_token
        assert second.refresh_token != first.refresh_token

        # Revoked in the Agents tab: refused at the next request.
        page.goto("/settings/agents/")
        row = page.locator("#token-table tbody tr").first
        expect(row).to_contain_text("Connected with OAuth")
        row.get_by_role("link", name="Revoke SDK agent").click()
        page.get_by_role("button", name="Revoke connection").click()
        notice = page.locator("#token-table tbody tr.row-notice p")
        expect(notice).to_have_text(re.compile("^Revoked “SDK agent”"))
        assert mcp_status(world, second.access_token) == 401
        again = refresh_by_hand(world, agent, second.refresh_token)
        assert again.json()["error"] == "invalid_grant"
    finally:
        agent.close()
    assert page.console_errors == []


def test_a_replayed_refresh_token_ends_the_connection(page, world):
    agent, _ = connect(page, world)
    try:
        first = agent.storage.tokens
        agent.provider.context.token_expiry_time = time.time() - 1
        agent.do(lambda client: client.call_tool("list_projects", {}))
        current = agent.storage.tokens
        replay = refresh_by_hand(world, agent, first.refresh_token)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        assert mcp_status(world, current.access_token) == 401
        assert Token.objects.get(owner=world["person"]).revoked_at is not None
    finally:
        agent.close()


@pytest.fixture
def metadata_document(tmp_path, settings, monkeypatch):
    """The SDK's client metadata document, served over https on 127.0.0.1 by a CA of this
    test's own, which the server's fetch (core.fetch) is told to trust."""
    folder = private_ca(tmp_path, names=["127.0.0.1"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "leaf.pem", folder / "key.pem")
    document: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            import json

            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/agent/client.json"
    document.update(
        client_id=url,
        client_name="SDK agent by document",
        redirect_uris=[CALLBACK],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    settings.OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK = True
    trusting = ssl.create_default_context(cafile=folder / "ca.pem")
    monkeypatch.setattr(oauth.clients, "fetch_json", partial(fetch_json, tls=trusting))
    yield url
    server.shutdown()
    server.server_close()


def test_the_sdk_connects_with_a_client_metadata_document(page, world, metadata_document):
    agent, _ = connect(page, world, metadata_url=metadata_document)
    try:
        assert agent.storage.client is None or agent.storage.client.client_id == metadata_document
        connection = Token.objects.get(owner=world["person"])
        assert connection.client == Token.Client.OAUTH
        from oauth.models import Client as OAuthClient

        assert OAuthClient.objects.get().client_id == metadata_document
    finally:
        agent.close()
