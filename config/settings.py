"""Tessera's settings.

Everything that differs between machines comes from the environment, read here and nowhere else.
The defaults are safe for a local run: SQLite, console email, DEBUG on only when asked for.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
PRODUCTION = env_bool("TESSERA_PRODUCTION")

# A fixed key is only acceptable for local runs; production must set SECRET_KEY.
_LOCAL_SECRET_KEY = "local-only-not-a-secret-tessera-dev-key"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", _LOCAL_SECRET_KEY)
if SECRET_KEY == _LOCAL_SECRET_KEY and PRODUCTION:
    raise ImproperlyConfigured("Set SECRET_KEY: TESSERA_PRODUCTION is on.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "ninja",
    "accounts",
    "orgs",
    "projects",
    "tokens",
    "audit",
    "agents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After AuthenticationMiddleware, so that on API paths it replaces the session user.
    "tokens.middleware.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orgs.context_processors.administered_organizations",
            ],
        },
    },
]


def database(url: str) -> dict:
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
        # Django turns psycopg's prepared statements off; its own queries bind client-side and
        # are never prepared either way. The token lookup binds server-side, and with this it is
        # prepared once per connection instead of planned on every request. Set
        # DB_PREPARED_STATEMENTS=0 behind a pooler that cannot carry prepared statements.
        if env_bool("DB_PREPARED_STATEMENTS", True):
            options.setdefault("prepare_threshold", 2)
    return config


DATABASES = {"default": database(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "token-list"
LOGOUT_REDIRECT_URL = "login"

# Argon2 for user passwords; tokens are high-entropy and use SHA-256 (README: "Security design").
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"

# Email: the console locally; SMTP when EMAIL_HOST is set (Django 6.1's MAILERS).
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Tessera <no-reply@tessera.localhost>")
if env("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EMAIL_HOST"),
                "port": int(env("EMAIL_PORT", "587")),
                "username": env("EMAIL_HOST_USER"),
                "password": env("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# Security headers. Scripts run only from our origin or with the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# TESSERA_PRODUCTION turns on everything HTTPS needs; each setting can still be overridden.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Tokens
TOKEN_LAST_USED_INTERVAL_SECONDS = 60
AGENT_DEFAULT_EXPIRY_DAYS = 90
AUDIT_RETENTION_DAYS = int(env("AUDIT_RETENTION_DAYS", "180"))
EMAIL_VERIFICATION_MAX_AGE_SECONDS = 3 * 24 * 3600

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

FORM_RENDERER = "config.forms.FormRenderer"

# Browser origins, besides the site's own, allowed to call /mcp (MCP clients send none).
MCP_ALLOWED_ORIGINS = env_list("MCP_ALLOWED_ORIGINS")
