"""A JSON-RPC error answers the request's id whenever it could be read (JSON-RPC 2.0 §5): a null
id is kept for bodies that are not JSON and requests whose id is missing or invalid."""

import json

import pytest

from tests.factories import bearer, make_token, mcp_call
from tokens.services import token_revoke


@pytest.fixture
def agent(user, org):
    return make_token(owner=user, organization=org, kind="agt")[1]


def post(client, message, **headers):
    body = message if isinstance(message, str) else json.dumps(message)
    return client.post("/mcp", body, content_type="application/json", **headers)


@pytest.mark.parametrize("message_id", [7, "req-7", 0])
def test_a_message_that_is_not_json_rpc_2_answers_with_its_id(client, agent, message_id):
    message = {"jsonrpc": "1.0", "id": message_id, "method": "ping"}
    body = post(client, message, **bearer(agent)).json()
    assert body["id"] == message_id and body["error"]["code"] == -32600


def test_a_refusal_before_the_view_answers_with_the_id(client, user, org, settings):
    message = {"jsonrpc": "2.0", "id": "abc", "method": "ping"}
    missing = post(client, message)
    assert missing.status_code == 401 and missing.json()["id"] == "abc"
    foreign = post(
        client, message, HTTP_ORIGIN="https://evil.example", **bearer(_secret(user, org))
    )
    assert foreign.status_code == 403 and foreign.json()["id"] == "abc"
    token, secret = make_token(owner=user, organization=org, kind="agt")
    token_revoke(token=token, by=user)
    revoked = post(client, {**message, "id": 41}, **bearer(secret))
    assert revoked.status_code == 401 and revoked.json()["id"] == 41


def test_a_rate_limited_request_answers_with_its_id(client, agent, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert mcp_call(client, agent, "ping", id=1).status_code == 200
    limited = mcp_call(client, agent, "ping", id="second")
    assert limited.status_code == 429 and limited.json()["id"] == "second"


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[]",
        '{"jsonrpc": "1.0", "method": "ping"}',
        '{"jsonrpc": "1.0", "id": {"x": 1}, "method": "ping"}',
        '{"jsonrpc": "1.0", "id": true, "method": "ping"}',
        '{"jsonrpc": "2.0", "id": null, "method": "ping"}',
        '{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}',
    ],
)
def test_an_unreadable_id_stays_null(client, agent, raw):
    body = post(client, raw, **bearer(agent)).json()
    assert body["id"] is None and body["error"]["code"] in (-32700, -32600)


def test_an_unreadable_id_stays_null_on_a_refusal_too(client, db):
    assert post(client, "{not json").json()["id"] is None
    assert client.get("/mcp").json()["id"] is None


def _secret(user, org):
    return make_token(owner=user, organization=org, kind="agt")[1]
