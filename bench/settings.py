"""Settings for the auth benchmark: Tessera's, plus DRF, knox and api-key side by side."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, database, env

DEBUG = False
ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "rest_framework",
    "rest_framework.authtoken",
    "knox",
    "rest_framework_api_key",
]
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
LOGGING = {"version": 1, "disable_existing_loggers": True}
DATABASES = {"default": database(env("BENCH_DATABASE_URL", "sqlite:///var/bench.sqlite3"))}
# Unknown and revoked tokens are timed thousands of times from one address: the failure counter
# runs (its cost is in those figures) but never trips.
AUTH_FAILURE_LIMIT_PER_MINUTE = 10**9
# The security emails of token creation go nowhere.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# The per-token API rate limit is off for the plain cases and on for "valid+limit", which the
# benchmark switches per request (bench/run.py); its counters live in Redis, as in production.
API_RATE_LIMIT_PER_MINUTE = 0
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "KEY_PREFIX": "tessera-bench",
    }
}
