"""Generated API cases against the published OpenAPI schema, with a valid read-write token.

Passes when no case gets a server error and every response conforms to the schema: its status
is documented, its content type and its body match. At least 1,000 cases run.
"""

import logging
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orgs.models import Role
from projects.models import Task
from tests.factories import make_org, make_project, make_token, make_user

pytestmark = [pytest.mark.stress, pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 120
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db):
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    # As Django's test client does: the real handler would close the connection that holds the
    # test's transaction at the end of every request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def secret(db):
    """The token every case sends; `secret.fresh()` mints another in the same place, for the
    cases that rotate or revoke the token that sends them."""
    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    for _ in range(3):
        project = make_project(organization=org)
        Task.objects.create(project=project, title="seeded")
    return SimpleNamespace(
        value=make_token(owner=owner, organization=org)[1],
        fresh=lambda: make_token(owner=owner, organization=org)[1],
    )


@pytest.fixture
def quiet_404s():
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)  # 404s and 422s are expected here; server errors still log
    yield
    logger.setLevel(level)


@pytest.fixture
def no_rate_limit(settings):
    """1,800 cases with one token would meet its limit of a rolling minute: the cases are about
    the schema, so the limit is off (its 429 is documented on every operation all the same)."""
    settings.API_RATE_LIMIT_PER_MINUTE = 0


def test_generated_cases_conform_and_never_fail(api_schema, secret, quiet_404s, no_rate_limit):
    # Schemathesis's pytest plugin does not run under pytest 9 yet, so each operation's
    # Hypothesis strategy is driven here directly.
    counts = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        # A token rotating or revoking itself would leave the cases after it nothing to send.
        self_service = operation.path.startswith("/api/v1/tokens/self")

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            counts[label] = counts.get(label, 0) + 1  # noqa: B023 (run() is called at once)
            token = secret.fresh() if self_service else secret.value  # noqa: B023
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        run()
    total = sum(counts.values())
    print(f"{total} generated API cases over {len(counts)} operations")
    assert len(counts) == 15
    assert total >= 1000
