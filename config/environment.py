"""Reading the environment, for config/settings.py: the one place settings come from, and the
helpers that turn a variable into a setting (a flag, a list, a database, a local secret key)."""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    """A flag: 1, true, yes or on; 0, false, no or off (or empty). Anything else stops the start
    rather than be read as off: TESSERA_PRODUCTION=2 would otherwise run in development mode."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"", "0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {value!r}."
    )


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def local_secret_key(path: Path) -> str:
    """A random key made once for this checkout and kept in an ignored file, so no key is public.

    Written to a temporary file and linked into place: of two processes starting at once, one
    wins and both read its key.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{os.getpid()}")
    draft.write_text(secrets.token_urlsafe(50))
    draft.chmod(0o600)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def database(url: str) -> dict[str, Any]:
    """One DATABASES entry from a URL, with the connection options Tessera relies on."""
    config = dj_database_url.parse(
        url,
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
        # Off by default: a health check is an extra SELECT 1 round trip on every request, and
        # Django already drops a connection that failed when its request ends.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS"),
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", int(env("DB_CONNECT_TIMEOUT", "5")))
        # Behind a pooler in transaction mode (PgBouncer's pool_mode=transaction), each
        # transaction may run on another server connection, so nothing may outlive one: no
        # server-side cursors (Django keeps one open across a queryset's iterator()) and, by
        # default, no prepared statements (PgBouncer carries them only from 1.21, and only with
        # max_prepared_statements set). Tessera keeps no other session state: no SET, no advisory
        # lock, no LISTEN (README, "Operations").
        pooled = env_bool("DB_TRANSACTION_POOLING")
        config["DISABLE_SERVER_SIDE_CURSORS"] = pooled
        # Django turns psycopg's prepared statements off; its own queries bind client-side and
        # are never prepared either way. The token lookup binds server-side, and with this it is
        # prepared once per connection instead of planned on every request.
        if env_bool("DB_PREPARED_STATEMENTS", not pooled):
            options.setdefault("prepare_threshold", 2)
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        options = config.setdefault("OPTIONS", {})
        # Every transaction takes the write lock when it begins, waiting up to `timeout` seconds
        # for it: a deferred one that reads then writes fails at once with "database is locked"
        # when another writer got there first (two rotations of one token did, 3 times in 4).
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
    return dict(config)
