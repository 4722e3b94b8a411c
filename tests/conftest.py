import pytest
from hypothesis import HealthCheck, settings

from orgs.models import Role

from .factories import make_org, make_project, make_user, sign_in

# Deadlines and "too slow" would measure how busy the machine is, not the code (performance
# lives in bench/); derandomized, every run tries the same examples, so a failure reproduces.
settings.register_profile(
    "tessera", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("tessera")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Argon2 is slow on purpose; tests that are not about it use a fast hasher
    (tests/accounts/test_passwords.py checks that the real settings hash with Argon2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"


@pytest.fixture(autouse=True)
def _tasks_run_eagerly(settings):
    """A test of a request runs the tasks it enqueues right there (once its transaction
    commits); tests of the queue itself ask for the database queue (tests/core/test_tasks.py)
    or a real worker (tests/core/test_worker.py)."""
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE}}


@pytest.fixture
def queue(settings):
    """Tasks go to the database queue, as in production, instead of running where enqueued
    (tests.tasks.work runs them)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache, and leases on them in the process; each test
    starts with none."""
    from django.core.cache import cache

    from core.ratelimits import leases

    cache.clear()
    leases.clear()
    yield
    cache.clear()
    leases.clear()


@pytest.fixture
def user(db):
    return make_user(email="ada@example.com", name="Ada")


@pytest.fixture
def org(user):
    return make_org(name="Acme", members={user: Role.OWNER})


@pytest.fixture
def project(org):
    return make_project(organization=org, name="Website")


@pytest.fixture
def signed_in(client, user):
    sign_in(client, user)
    return client
