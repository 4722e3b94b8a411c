from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import ratelimits
from tests.factories import bearer, make_token
from tokens import codec
from tokens.services import token_revoke

ME = "/api/v1/me"


def unknown() -> str:
    return codec.generate("pat")


@pytest.fixture
def low_limit(settings):
    settings.AUTH_FAILURE_LIMIT_PER_MINUTE = 5
    return 5


@time_machine.travel("2026-11-23 10:00:05", tick=False)
def test_unusable_tokens_get_401_up_to_the_limit_then_429_with_retry_after(client, db, low_limit):
    for _ in range(low_limit):
        assert client.get(ME, **bearer(unknown())).status_code == 401
    response = client.get(ME, **bearer(unknown()))
    assert response.status_code == 429
    # The failures of 10:00:05 leave the rolling minute with their five-second bucket, at 10:01:10.
    assert response["Retry-After"] == "65"
    assert response.json()["type"] == "http://testserver/api/v1/problems/rate-limited"


@time_machine.travel("2026-11-23 10:00:05", tick=False)
def test_revoked_and_expired_tokens_count_as_failures(client, user, org, low_limit):
    revoked, revoked_secret = make_token(owner=user, organization=org)
    token_revoke(token=revoked, by=user)
    _, expired_secret = make_token(owner=user, organization=org, expires_in=timedelta(seconds=1))
    with time_machine.travel("2026-11-23 10:00:10", tick=False):
        for secret in [revoked_secret, expired_secret] * 2 + [unknown()]:
            assert client.get(ME, **bearer(secret)).status_code == 401
        assert client.get(ME, **bearer(revoked_secret)).status_code == 429


def test_malformed_tokens_cost_no_query_and_no_count(client, db, low_limit, monkeypatch):
    monkeypatch.setattr(ratelimits, "hit", lambda *a, **k: pytest.fail("counted"))
    for _ in range(low_limit * 3):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(ME, **bearer("tsr_pat_" + "x" * 36))
        assert response.status_code == 401 and len(queries) == 0


def test_a_valid_token_never_touches_the_counter_even_past_the_limit(
    client, user, org, low_limit, monkeypatch
):
    _, secret = make_token(owner=user, organization=org)
    for _ in range(low_limit + 1):
        client.get(ME, **bearer(unknown()))
    counted = ratelimits.hit

    def hit(key, **kwargs):
        assert not key.startswith("auth-failures:"), "a valid token touched the failure counter"
        return counted(key, **kwargs)

    monkeypatch.setattr(ratelimits, "hit", hit)
    assert client.get(ME, **bearer(secret)).status_code == 200


def test_the_limit_is_per_client_address_and_rolls_over_a_minute(client, db, low_limit):
    with time_machine.travel("2026-11-23 10:00:00", tick=False):
        for _ in range(low_limit + 1):
            client.get(ME, **bearer(unknown()))
        assert client.get(ME, **bearer(unknown())).status_code == 429
        other = client.get(ME, REMOTE_ADDR="10.9.8.7", **bearer(unknown()))
        assert other.status_code == 401
    with time_machine.travel("2026-11-23 10:01:04", tick=False):  # no fresh start at 10:01
        assert client.get(ME, **bearer(unknown())).status_code == 429
    with time_machine.travel("2026-11-23 10:01:05", tick=False):
        assert client.get(ME, **bearer(unknown())).status_code == 401


def test_ipv6_addresses_of_one_64_share_the_limit(client, db, low_limit):
    for host in range(low_limit):
        response = client.get(ME, REMOTE_ADDR=f"2001:db8:7:9::{host + 1:x}", **bearer(unknown()))
        assert response.status_code == 401
    fresh_address = client.get(ME, REMOTE_ADDR="2001:db8:7:9:ab::1", **bearer(unknown()))
    assert fresh_address.status_code == 429
    other_network = client.get(ME, REMOTE_ADDR="2001:db8:7:a::1", **bearer(unknown()))
    assert other_network.status_code == 401


def test_the_owners_two_factor_requirement_is_enforced_on_every_request(client, user, org):
    from allauth.mfa.models import Authenticator

    _, secret = make_token(owner=user, organization=org)
    org.require_two_factor = True
    org.save()
    response = client.get(ME, **bearer(secret))
    assert response.status_code == 401
    assert "Acme requires two-factor authentication" in response.json()["detail"]
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    assert client.get(ME, **bearer(secret)).status_code == 200
