"""Redis away: gunicorn with REDIS_URL at a port where nothing listens. Sign-in and every API
POST with an Idempotency-Key (the SDK sends one on each) used to answer 500; the cache now fails
open, so they go on, logged, and nothing answers 5xx."""

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

from orgs.models import Role
from tests.factories import PASSWORD, make_org, make_token, make_user

from .conftest import Gunicorn

pytestmark = pytest.mark.stress


def test_nothing_answers_5xx_while_redis_is_away(pg_test_database_url):
    user = make_user(email="ada@example.com")
    argon2 = Argon2PasswordHasher()  # what the server checks with (the tests hash with MD5)
    user.password = argon2.encode(PASSWORD, argon2.salt())
    user.save()
    org = make_org(members={user: Role.OWNER})
    _, secret = make_token(owner=user, organization=org)
    server = Gunicorn(pg_test_database_url, extra_env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    statuses: Counter = Counter()
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def send(url, data=None, headers=None, opener=browser):
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with opener.open(request, timeout=10) as response:
                statuses[response.status] += 1
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            statuses[error.code] += 1
            return error.code, error.read()

    try:
        send(f"{server.url}/accounts/login/")
        csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        for password in ["wrong 1", "wrong 2", PASSWORD]:
            form = {"csrfmiddlewaretoken": csrf, "login": user.email, "password": password}
            status, page = send(
                f"{server.url}/accounts/login/", urllib.parse.urlencode(form).encode()
            )
        assert status == 200 and b"Sign out" in page, "signed in, on the developer page"
        api = urllib.request.build_opener()
        auth = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        for n in range(5):
            body = json.dumps({"name": f"P{n}", "organization": org.slug}).encode()
            headers = {**auth, "Idempotency-Key": f"key-{n}"}
            status, _ = send(f"{server.url}/api/v1/projects", body, headers, opener=api)
            assert status == 201
        for _ in range(20):
            send(f"{server.url}/api/v1/me", headers=auth, opener=api)
    finally:
        server.stop()
    assert not [status for status in statuses if status >= 500], (statuses, server.output())
    assert "Cache unreachable; carrying on without it" in server.output()
    print(f"{sum(statuses.values())} requests with Redis away: {dict(statuses)}, 5xx: 0")
