"""/readyz: ready while the database answers; Redis reported, never a reason to leave the pool."""

from unittest import mock

import pytest
from django.db import OperationalError

from core.cache import cache_reachable

pytestmark = pytest.mark.django_db


def test_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["database"] == "ok"
    assert body["redis"] in ("ok", "not configured")  # CI runs the suite once with Redis


def test_unavailable_with_retry_after_when_the_database_does_not(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError):
        response = client.get("/readyz")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["database"] == "unreachable"


def redis_cache(location: str) -> dict:
    options = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    return {"default": {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": location,
                        "OPTIONS": options}}  # fmt: skip


def test_an_unreachable_redis_is_reported_but_the_host_stays_ready(client, settings):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")
    assert cache_reachable() is False
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["redis"] == "unreachable"


def test_a_reachable_redis_is_reported(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (CI runs the suite once with Redis)")
    settings.CACHES = redis_cache(settings.REDIS_URL)
    assert client.get("/readyz").json()["redis"] == "ok"


def test_without_redis_the_local_cache_is_reported_as_such(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert client.get("/readyz").json()["redis"] == "not configured"
