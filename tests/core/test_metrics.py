"""/metrics: closed unless settings name the scraper; requests by URL pattern and status,
token checks by outcome, rate-limit refusals; JSON logs with the token's prefix, never its
secret."""

import json
import logging

import pytest
from django.test import RequestFactory
from prometheus_client import REGISTRY

from core.emails import current_request
from core.logs import JsonFormatter
from core.middleware import RequestIdFilter
from orgs.models import Role
from tests.factories import bearer, make_org, make_token, make_user
from tokens import codec
from tokens.authentication import token_authenticate

pytestmark = pytest.mark.django_db


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def secret(db):
    user = make_user()
    org = make_org(members={user: Role.MEMBER})
    return make_token(owner=user, organization=org)[1]


def test_metrics_are_closed_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_a_listed_address_may_scrape(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8"]
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"tessera_http_requests_total" in response.content


def test_the_metrics_token_lets_a_scraper_in_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN = "scrape-me-please-0123456789"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please-0123456789"})
    assert ok.status_code == 200


def test_requests_are_counted_by_url_pattern_not_path(client, secret):
    route = "api/v1/me"
    before = sample("tessera_http_requests_total", route=route, method="GET", status="200")
    client.get("/api/v1/me", **bearer(secret))
    after = sample("tessera_http_requests_total", route=route, method="GET", status="200")
    assert after == before + 1
    assert sample("tessera_http_request_duration_seconds_count", route=route) >= 1


def test_token_checks_are_counted_by_outcome_and_reason(client, secret):
    refused = sample(
        "tessera_token_authentications_total", outcome="refused", reason="unknown-token"
    )
    accepted = sample("tessera_token_authentications_total", outcome="accepted", reason="")
    client.get("/api/v1/me", **bearer(secret))
    client.get("/api/v1/me", **bearer("tsr_pat_" + secret[8:-6] + "000000"))  # bad checksum
    client.get("/api/v1/me", **bearer(codec.generate("pat")))
    assert (
        sample("tessera_token_authentications_total", outcome="accepted", reason="") == accepted + 1
    )
    assert (
        sample("tessera_token_authentications_total", outcome="refused", reason="unknown-token")
        == refused + 1
    )
    # A refusal before the URL conf ran still counts under the pattern it was aimed at.
    assert sample("tessera_http_requests_total", route="api/v1/me", method="GET", status="401") >= 2


def test_rate_limit_refusals_are_counted(client, secret, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    before = sample("tessera_rate_limit_refusals_total", limit="token")
    client.get("/api/v1/me", **bearer(secret))
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 429
    assert sample("tessera_rate_limit_refusals_total", limit="token") == before + 1


def test_json_logs_carry_the_tokens_prefix_never_its_secret(secret):
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            RequestIdFilter().filter(record)
            lines.append(JsonFormatter().format(record))

    handler = Capture()
    logger = logging.getLogger("tessera.test")
    logger.addHandler(handler)
    try:
        request = RequestFactory().get("/api/v1/me")
        request.token = token_authenticate(authorization=f"Bearer {secret}", ip=None, user_agent="")
        reset = current_request.set(request)
        try:
            logger.warning("something about a token")
        finally:
            current_request.reset(reset)
    finally:
        logger.removeHandler(handler)
    entry = json.loads(lines[0])
    assert entry["message"] == "something about a token" and entry["level"] == "WARNING"
    assert entry["token_prefix"] == secret[:14] and isinstance(entry["token_id"], int)
    assert secret not in lines[0] and secret[14:] not in lines[0]
