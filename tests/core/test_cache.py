"""Redis away (REDIS_URL pointing at a closed port): sign-in and every API write used to be a
500; the cache now fails open (core.cache), logged, so they go on without limits or replays."""

import json

import pytest
from django.core.cache import caches

from tests.factories import PASSWORD, bearer, make_token, make_user

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def redis_away(settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": CLOSED_PORT,
            "KEY_PREFIX": "tessera",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    monkeypatch.setattr("core.cache._warned_at", 0.0)  # the first failure is logged


def test_sign_in_and_sign_up_go_on_without_their_limits(client, db, redis_away, caplog):
    user = make_user(email="ada@example.com")
    wrong = client.post("/accounts/login/", {"login": user.email, "password": "nope"})
    assert wrong.status_code == 200
    right = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert right.status_code == 302 and right["Location"] == "/settings/developer/"
    client.logout()
    signup = {"email": "grace@example.com", "password1": "a-Long-enough-1", "name": "Grace"}
    assert client.post("/accounts/signup/", signup).status_code == 302
    assert "Cache unreachable; carrying on without it" in caplog.text


def test_api_writes_with_an_idempotency_key_go_on_without_replays(client, user, org, redis_away):
    from projects.models import Project

    _, secret = make_token(owner=user, organization=org)
    for _ in range(2):
        created = client.post(
            "/api/v1/projects",
            json.dumps({"name": "Launch", "organization": org.slug}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="same-key",
            **bearer(secret),
        )
        assert created.status_code == 201, created.content
    # Without the store, a retry cannot be recognised: done twice, never a 500.
    assert Project.objects.filter(name="Launch").count() == 2
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_every_cache_operation_answers_as_an_empty_cache(redis_away):
    cache = caches["default"]
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is True and cache.set("k", 1) is None
    assert cache.get_many(["k"]) == {} and cache.has_key("k") is False
    assert cache.incr("k", 5) == 5 and cache.delete("k") is False
