"""Security headers on every kind of response, and production settings that pass check --deploy."""

import importlib.util
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from config.environment import database

ROOT = Path(__file__).resolve().parent.parent


def test_pages_carry_a_nonce_csp_and_the_other_headers(signed_in, org):
    response = signed_in.get("/settings/developer/")
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_nonce_changes_per_response(signed_in, org):
    def nonce():
        return re.search(
            r"'nonce-([^']+)'", signed_in.get("/settings/developer/")["Content-Security-Policy"]
        )

    assert nonce().group(1) != nonce().group(1)


def test_api_responses_carry_the_headers_too(client, db):
    response = client.get("/api/v1/me")
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]


PRODUCTION_ENV = {
    "TESSERA_PRODUCTION": "1",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "EMAIL_HOST": "smtp.example.com",
    "ALLOWED_HOSTS": "tessera.example.com",
    "SECURE_HSTS_PRELOAD": "1",
    "BEHIND_TLS_PROXY": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _manage(*args, extra_env=None):
    env = {**os.environ, **PRODUCTION_ENV, **(extra_env or {})}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    done = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def production_settings(monkeypatch, **changes):
    """config/settings.py evaluated afresh under the production environment, in this process
    (a subprocess costs a second of start-up; `check --deploy` above needs one, these do not)."""
    for name, value in {**PRODUCTION_ENV, **changes}.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        "production_settings", ROOT / "config/settings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_production_settings_make_cookies_secure_and_redirect_to_https(monkeypatch):
    s = production_settings(monkeypatch)
    assert (s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY) == (
        True, True, True
    )  # fmt: skip
    assert s.SECURE_SSL_REDIRECT and s.SECURE_HSTS_SECONDS == 31536000 and not s.DEBUG
    assert s.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert s.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is False


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="Set SECRET_KEY"):
        production_settings(monkeypatch, SECRET_KEY="")


@pytest.mark.parametrize(
    "key", ["changeme", "x" * 60, "django-insecure-" + secrets.token_urlsafe(50)]
)
def test_production_refuses_to_start_with_a_weak_secret_key(monkeypatch, key):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is too weak"):
        production_settings(monkeypatch, SECRET_KEY=key)


@pytest.mark.parametrize("flag", ["2", "y", "enabled"])
def test_a_flag_that_is_neither_on_nor_off_stops_the_start(monkeypatch, flag):
    """TESSERA_PRODUCTION=2 used to run in development mode, silently."""
    with pytest.raises(ImproperlyConfigured, match=f"TESSERA_PRODUCTION must be 1 or 0.*'{flag}'"):
        production_settings(monkeypatch, TESSERA_PRODUCTION=flag)


def test_production_refuses_to_start_in_debug_mode(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be off"):
        production_settings(monkeypatch, DEBUG="1")


def test_production_refuses_to_start_without_a_shared_rate_limit_store(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="Set REDIS_URL"):
        production_settings(monkeypatch, REDIS_URL="")


def test_seed_demo_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run with TESSERA_PRODUCTION"):
        call_command("seed_demo")


def test_a_balancer_and_a_scraper_are_answered_over_plain_http_in_production(monkeypatch):
    """They ask inside the network, where there is no TLS: a redirect would fail every check."""
    s = production_settings(monkeypatch)
    exempt = [re.compile(pattern) for pattern in s.SECURE_REDIRECT_EXEMPT]
    for path in ("healthz", "readyz", "metrics"):
        assert any(pattern.match(path) for pattern in exempt), path
    assert not any(pattern.match("api/v1/me") for pattern in exempt)


def test_behind_a_transaction_pooler_nothing_outlives_a_transaction(monkeypatch):
    url = "postgres://tessera@10.0.0.5:6432/tessera"
    monkeypatch.setenv("DB_TRANSACTION_POOLING", "1")
    pooled = database(url)
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "prepare_threshold" not in pooled["OPTIONS"]
    # A pooler that carries prepared statements (PgBouncer 1.21 and later) can have them back.
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "1")
    assert database(url)["OPTIONS"]["prepare_threshold"] == 2
    monkeypatch.delenv("DB_TRANSACTION_POOLING")
    monkeypatch.delenv("DB_PREPARED_STATEMENTS")
    direct = database(url)
    assert direct["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert direct["OPTIONS"]["prepare_threshold"] == 2
