"""Tessera's settings.

Everything that differs between machines comes from the environment, read here (through the
helpers of config/environment.py) and nowhere else.
The defaults are safe for a local run: SQLite, console email, DEBUG on only when asked for.
"""

import json
import sys
from pathlib import Path

from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.environment import database, env, env_bool, env_list, local_secret_key
from core.http import API_PREFIX, MCP_PATH

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG")
PRODUCTION = env_bool("TESSERA_PRODUCTION")


if PRODUCTION and not env("SECRET_KEY"):
    raise ImproperlyConfigured("Set SECRET_KEY: TESSERA_PRODUCTION is on.")
# Production refuses to start on what Django's deploy checks only warn about: a guessable key
# signs sessions and password-reset links; DEBUG shows settings and code to anyone.
if PRODUCTION and (
    len(key := env("SECRET_KEY")) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for TESSERA_PRODUCTION: use 50 or more random characters, "
        "e.g. from python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when TESSERA_PRODUCTION is on.")
SECRET_KEY = env("SECRET_KEY") or local_secret_key(BASE_DIR / "var" / "secret-key")

# Where people reach Tessera, for links in emails sent outside a request (reminders, alerts):
# by default where `make run` serves it, on PORT.
# localhost rather than 127.0.0.1: passkeys need a host name (WebAuthn refuses IP addresses).
SITE_URL = env("SITE_URL", f"http://localhost:{env('PORT', '8000')}")
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
    "corsheaders",
    "ninja",
    "django_tasks_db",
    "core",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "accounts",
    "orgs",
    "projects",
    "audit",
    "tokens",
    "credentials",
    "policy",
    "oauth",
    "api",
    "mcp_server",
]

# What every request goes through. Past PathDispatchMiddleware each takes one chain of
# MIDDLEWARE_BY_PATH, by the start of its path; allauth's stays last here for its exception hook.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.metrics.MetricsMiddleware",
    # Before CommonMiddleware, so a CORS preflight is answered before anything else runs.
    "core.middleware.CorsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.PathDispatchMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
# The API and MCP: who the bearer token is, then what the API promises once it is known.
TOKEN_MIDDLEWARE = [
    "tokens.middleware.BearerTokenMiddleware",
    "api.middleware.TokenExpiryMiddleware",
    "api.middleware.RateLimitMiddleware",
    "api.middleware.IdempotencyMiddleware",
]
# The pages: a session and its user, messages, HTMX.
PAGE_MIDDLEWARE = [
    "core.middleware.HtmxRedirectMiddleware",
    "core.middleware.PrivatePagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    # Inside the session and messages: a POST that met login_required keeps what was typed.
    "accounts.middleware.SessionEndedMiddleware",
]
MIDDLEWARE_BY_PATH = [
    (API_PREFIX, [*TOKEN_MIDDLEWARE, "api.middleware.ApiConventionsMiddleware"]),
    (MCP_PATH, TOKEN_MIDDLEWARE),
    ("/healthz", []),
    ("/readyz", []),
    ("/metrics", []),
    ("", PAGE_MIDDLEWARE),
]
# The admin's checks look for sessions, users and messages in MIDDLEWARE; they are in the pages'
# chain, which tests/core/test_middleware.py checks instead.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "config.urls"


def token_page(token) -> str:
    """Token.get_absolute_url(): the pages (credentials) sit above the model's app, so the
    project, which sees both, says where a token lives."""
    from credentials.surfaces import token_page

    return token_page(token)


ABSOLUTE_URL_OVERRIDES = {"tokens.token": token_page}
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
                "config.context_processors.api_links",
                "accounts.context_processors.account_tab",
            ],
        },
    },
]


DATABASES = {"default": database(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Sign-in by email, with allauth's rate limits; the model backend stays for the admin.
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "token-list"

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
# Who hears of vulnerabilities (/.well-known/security.txt, RFC 9116): comma-separated mailto: or
# https: URIs, or plain addresses; by default security@ the domain Tessera's emails come from.
SECURITY_CONTACT = env_list(
    "SECURITY_CONTACT", "security@" + DEFAULT_FROM_EMAIL.rstrip(">").rpartition("@")[2]
)
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
    # On standard error, so that a command's output (token_create prints a secret) stays clean.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.console.EmailBackend",
            "OPTIONS": {"stream": sys.stderr},
        }
    }

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
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# TESSERA_PRODUCTION turns on everything HTTPS needs; each setting can still be overridden.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# A balancer and a scraper ask over plain HTTP inside the network: answer them there.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Shared counters (rate limits) live in the cache: Redis when REDIS_URL is set, which production
# needs so that every process counts against one limit; otherwise this process's memory, which
# needs no set-up for a local run.
# When Redis is away, the cache fails open (core.cache): limits stop counting, logged, and
# nothing answers 500; short timeouts keep a vanished host from holding requests up.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tessera",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("Set REDIS_URL: rate limits must be shared by every process.")

# Accounts (django-allauth): sign-in by email only, verified email before anything else.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_FORMS = {
    "login": "accounts.forms.SignInForm",
    "signup": "accounts.forms.SignUpForm",
    "change_password": "accounts.forms.PasswordChangeForm",
    "reauthenticate": "accounts.forms.PasswordReauthenticateForm",
}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CHANGE_EMAIL = True  # one address; a new one is verified before it replaces the old
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a link scanner opening it confirms nothing
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password, email and second-factor changes are emailed
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Tessera: "
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_SESSION_REMEMBER = None  # the sign-in form asks
# After this many wrong passwords from a signed-in session within an hour, the owner is emailed.
REAUTH_ALERT_AFTER = 5
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Failed sign-ins: 10 a minute per address, 5 per account in 5 minutes.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
# Where the client's address comes from (sign-in throttles, last use, the audit log): the socket,
# or with TRUSTED_PROXY_HOPS=N the N-th address from the right of X-Forwarded-For.
TRUSTED_PROXY_HOPS = int(env("TRUSTED_PROXY_HOPS", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_HOPS
# Per-address limits (allauth's and core.ratelimits.address_key) count an IPv6 /64 as one address.
ALLAUTH_RATE_LIMIT_IPV6_PREFIX = 64

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Tessera"
MFA_FORMS = {
    "authenticate": "accounts.forms.SecondFactorForm",
    "reauthenticate": "accounts.forms.CodeReauthenticateFocusForm",
    "activate_totp": "accounts.forms.TotpActivateForm",
    "add_webauthn": "accounts.forms.PasskeyAddForm",
}
# allauth otherwise forbids adding an address to a two-factor account, which would leave such
# accounts unable to change email. Sign-in already needs a verified address, and a new address
# replaces the old one only once verified (ACCOUNT_CHANGE_EMAIL).
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Browsers allow WebAuthn on http://localhost; the server-side check needs this to agree there.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", not PRODUCTION)
USERSESSIONS_TRACK_ACTIVITY = True

# Tokens
TOKEN_LAST_USED_INTERVAL_SECONDS = 60
# Well-formed tokens that cannot be used (unknown, revoked, expired), per client address.
AUTH_FAILURE_LIMIT_PER_MINUTE = int(env("AUTH_FAILURE_LIMIT_PER_MINUTE", "60"))
AGENT_DEFAULT_EXPIRY_DAYS = 90
# The lifetime of a personal or project token when none is chosen (the shell's default, and
# what a policy that requires an expiry gives a token without one).
TOKEN_DEFAULT_EXPIRY_DAYS = 30
# Leaked-token reports (POST /api/v1/credentials/revoke) per client address per minute.
CREDENTIAL_REPORTS_PER_MINUTE = int(env("CREDENTIAL_REPORTS_PER_MINUTE", "10"))
# GitHub's secret-scanning partner program (POST /api/v1/credentials/github-secret-scanning): the
# public keys GitHub signs its alerts with, key identifier → PEM, as the JSON object GitHub's
# https://api.github.com/meta/public_keys/secret_scanning lists (docs/secret-scanning.md).
# Empty: the endpoint refuses every alert.
GITHUB_SECRET_SCANNING_KEYS: dict[str, str] = json.loads(env("GITHUB_SECRET_SCANNING_KEYS") or "{}")
# Background work (core.tasks, tokens.tasks, audit.tasks): django.tasks tasks, enqueued once
# the transaction that asked for them commits. By default on a queue in this database
# (django-tasks-db), run by `manage.py worker` (`make run` starts one beside the server); the
# immediate backend ("django.tasks.backends.immediate.ImmediateBackend") runs each task where it
# is enqueued instead, with no worker, retries or schedules.
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
# A task claimed by a worker that has not finished it this long after is taken to have died with
# its worker, and is run again by another (every task is safe to run twice: core/tasks.py).
TASKS_LEASE_SECONDS = int(env("TASKS_LEASE_SECONDS", "900"))
# How long finished tasks (an email's rendered text among them) stay in the queue's table.
TASKS_RESULT_RETENTION_DAYS = int(env("TASKS_RESULT_RETENTION_DAYS", "7"))
# A send that fails (the mail server down) is tried again after each of these delays, then given
# up and logged.
EMAIL_RETRY_DELAYS = [60, 300, 1800]
# What the worker enqueues, each once per period however many hosts run one (core.schedules):
# name → the task's dotted path and its period in seconds (periods start at the Unix epoch, so a
# daily job's period is the UTC day). In dictionary order: the policy's revocations before the
# reminders, as `manage.py notify_expiring` does.
TASK_SCHEDULES = {
    "revoke-unused-tokens": {"task": "tokens.tasks.revoke_unused", "every": 86400},
    "remind-expiring-tokens": {"task": "tokens.tasks.remind_expiring", "every": 86400},
    "prune-audit-log": {"task": "audit.tasks.prune", "every": 86400},
    "prune-task-results": {"task": "core.tasks.prune_task_results", "every": 86400},
}
# How often the worker looks for due schedules and abandoned tasks.
TASKS_SCHEDULE_TICK_SECONDS = int(env("TASKS_SCHEDULE_TICK_SECONDS", "30"))
AUDIT_RETENTION_DAYS = int(env("AUDIT_RETENTION_DAYS", "180"))


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.middleware.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if env("LOG_FORMAT", "plain") == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

FORM_RENDERER = "core.forms.FormRenderer"

# Browser origins, besides the site's own, allowed to call /api and /mcp (non-browser clients
# send no Origin). One list for CORS and for the MCP Origin check; MCP_ALLOWED_ORIGINS is its
# former name.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS") or env_list("MCP_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(api/|mcp/?$)"
CORS_ALLOW_CREDENTIALS = False  # tokens travel in Authorization, never in cookies
CORS_ALLOW_HEADERS = (
    *default_cors_headers,
    "idempotency-key",
    "if-none-match",
    "mcp-protocol-version",
    "mcp-session-id",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = [
    "Location",
    "Link",
    "ETag",
    "Retry-After",
    "WWW-Authenticate",
    "X-Request-Id",
    "X-Accepted-Scopes",
    "RateLimit",
    "RateLimit-Policy",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Idempotent-Replayed",
    "Tessera-Token-Expires",
]
CORS_PREFLIGHT_MAX_AGE = 600

# /metrics (Prometheus): closed unless the scraper's address is listed (addresses or CIDR
# networks) or it sends METRICS_TOKEN as a bearer token.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
METRICS_TOKEN = env("METRICS_TOKEN", "")

# MCP authorization (the oauth app). oauthlib refuses plain http unless told otherwise: allowed
# outside TESSERA_PRODUCTION, so `make run` on http://127.0.0.1 works. A client may name itself by a
# metadata document on a loopback address only under DEBUG (a local client, or the tests).
OAUTH_ALLOW_HTTP = env_bool("OAUTH_ALLOW_HTTP", not PRODUCTION)
OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK = env_bool("OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK", DEBUG)

# The JSON API: requests per minute per token (0 turns the limit off), and how long a POST's
# Idempotency-Key is remembered.
API_RATE_LIMIT_PER_MINUTE = int(env("API_RATE_LIMIT_PER_MINUTE", "1000"))
IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600
# Where each RFC 9457 problem type (core.problems) is documented: the API serves these pages.
PROBLEM_TYPES_URL = "/api/v1/problems/"
