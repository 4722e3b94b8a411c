"""Tessera-Token-Expires: every authenticated API and MCP answer says when the token expires,
as GitHub's github-authentication-token-expiration does, and only when it does expire."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import bearer, make_token, mcp_call
from tokens.models import Token

HEADER = "Tessera-Token-Expires"


@pytest.fixture
def expiring(user, org):
    token, secret = make_token(owner=user, organization=org)
    moment = datetime(2031, 5, 17, 8, 30, 12, 345678, tzinfo=UTC)
    Token.objects.filter(pk=token.pk).update(expires_at=moment)
    return secret


def test_an_expiring_tokens_answers_carry_its_expiry_in_rfc3339_utc(client, expiring, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    answers = [
        client.get("/api/v1/me", **bearer(expiring)),
        client.get("/api/v1/projects/999999", **bearer(expiring)),  # a 404 is still an answer
        mcp_call(client, expiring, "ping"),
        client.get("/api/v1/me", **bearer(expiring)),  # past the limit: 429
    ]
    assert [a.status_code for a in answers] == [200, 404, 200, 429]
    assert {a[HEADER] for a in answers} == {"2031-05-17T08:30:12Z"}


def test_a_token_without_expiry_gets_no_header(client, user, org, expiring):
    _, secret = make_token(owner=user, organization=org, expires_in=None)
    for answer in (client.get("/api/v1/me", **bearer(secret)), mcp_call(client, secret, "ping")):
        assert answer.status_code == 200 and HEADER not in answer
    # The same requests with a token that expires do carry it.
    assert HEADER in client.get("/api/v1/me", **bearer(expiring))
    assert HEADER in mcp_call(client, expiring, "ping")


def test_unauthenticated_and_refused_answers_get_no_header(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    assert HEADER in client.get("/api/v1/me", **bearer(secret))  # while it works
    for answer in (client.get("/api/v1/me"), client.get("/api/v1/openapi.json")):
        assert answer.status_code in (200, 401) and HEADER not in answer
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = client.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 401 and HEADER not in refused


def test_browsers_may_read_the_header(client, expiring, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.get("/api/v1/me", HTTP_ORIGIN="https://app.example.com", **bearer(expiring))
    assert HEADER in response["Access-Control-Expose-Headers"]


def test_me_adds_stable_ids_and_the_tokens_use(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    body = client.get("/api/v1/me", **bearer(secret)).json()
    assert body["user"]["id"] == user.pk and body["organization"]["id"] == org.pk
    assert body["token"]["id"] == token.pk
    token.refresh_from_db()
    for name in ("created_at", "last_used_at"):  # JSON carries milliseconds
        answered = datetime.fromisoformat(body["token"][name])
        assert abs(answered - getattr(token, name)) < timedelta(milliseconds=1)
    assert body["token"]["project"] is None
