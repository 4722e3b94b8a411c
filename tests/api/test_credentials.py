"""POST /api/v1/credentials/revoke: anyone can report leaked tokens, without a token; every
working one among them is revoked, and the answer never says which existed."""

import json
from contextlib import contextmanager

import pytest
from django.core import mail
from django.core.handlers.base import BaseHandler
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.tasks import default_task_backend
from django.test import RequestFactory, TestCase
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import bearer, make_token, make_user
from tokens import codec
from tokens.services import project_token_create, token_revoke
from tokens.tasks import revoke_reported

REPORT = "/api/v1/credentials/revoke"
ACCEPTED = {"status": "accepted"}


def report(client, credentials, **extra):
    """Report `credentials`, and run the emails the revocations enqueued (on commit)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            REPORT, {"credentials": credentials}, content_type="application/json", **extra
        )


def test_a_reported_token_is_refused_on_the_next_request(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200
    response = report(client, [f"  {secret}\n"], REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 202 and response.json() == ACCEPTED
    refused = client.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 401 and refused.json()["type"].endswith("token-revoked")
    event = AuditEvent.objects.get(event="token.revoked", token_id=token.pk)
    assert event.detail["by"] == "reported leaked" and event.actor is None
    assert event.ip == "192.0.2.44"


def test_the_owner_is_emailed_without_the_secret(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    mail.outbox.clear()
    report(client, [secret])
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert "reported as leaked" in mail.outbox[0].body and token.prefix in mail.outbox[0].body
    assert secret[14:] not in mail.outbox[0].body


def test_a_reported_project_token_is_told_to_the_organizations_owners_and_admins(
    client, user, org, project
):
    admin = make_user(email="admin@example.com")
    org.memberships.create(user=admin, role=Role.ADMIN)
    org.memberships.create(user=make_user(email="member@example.com"), role=Role.MEMBER)
    _token, secret = project_token_create(
        project=project, by=admin, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    mail.outbox.clear()
    report(client, [secret])
    assert [m.to for m in mail.outbox] == [["ada@example.com"], ["admin@example.com"]]


def test_unknown_malformed_and_revoked_entries_get_the_same_answer(client, user, org):
    revoked, revoked_secret = make_token(owner=user, organization=org)
    token_revoke(token=revoked, by=user)
    _, live = make_token(owner=user, organization=org)
    mistyped = live[:-1] + ("A" if live[-1] != "A" else "B")
    answers = [
        report(client, batch)
        for batch in (
            [codec.generate("pat")],  # well-formed, never issued
            ["not a token", "", "tsr_pat_" + "x" * 36, mistyped],
            [revoked_secret],
            [],
        )
    ]
    assert {(a.status_code, a.content) for a in answers} == {(202, b'{"status": "accepted"}')}
    assert client.get("/api/v1/me", **bearer(live)).status_code == 200  # a typo revokes nothing
    assert (
        not AuditEvent.objects.filter(event="token.revoked").exclude(token_id=revoked.pk).exists()
    )


def test_many_tokens_in_one_report_are_all_revoked(client, user, org):
    secrets = [make_token(owner=user, organization=org)[1] for _ in range(3)]
    report(client, [*secrets, *secrets])  # duplicates are fine
    for secret in secrets:
        assert client.get("/api/v1/me", **bearer(secret)).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"credentials": ["x"] * 1001},
        {"credentials": ["x" * 101]},
        {"credentials": "tsr_pat_..."},
        {"credentials": [1, 2]},
        {},
    ],
    ids=["over-1000", "over-100-chars", "not-a-list", "not-strings", "missing"],
)
def test_an_oversized_or_misshapen_report_is_a_422_problem(client, db, body):
    response = client.post(REPORT, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["type"] == "http://testserver/api/v1/problems/validation-error"


def test_exactly_1000_entries_of_100_characters_are_accepted(client, db):
    assert report(client, ["x" * 100] * 1000).status_code == 202


def test_reports_are_limited_per_client_address(client, db, settings):
    settings.CREDENTIAL_REPORTS_PER_MINUTE = 3
    for _ in range(3):
        assert report(client, [], REMOTE_ADDR="192.0.2.1").status_code == 202
    limited = report(client, [], REMOTE_ADDR="192.0.2.1")
    assert limited.status_code == 429
    assert limited.json()["type"] == "http://testserver/api/v1/problems/rate-limited"
    assert 1 <= int(limited["Retry-After"]) <= 65  # a rolling minute, in five-second steps
    assert report(client, [], REMOTE_ADDR="192.0.2.2").status_code == 202


def test_the_endpoint_is_documented_without_authentication(client, db):
    operation = client.get("/api/v1/openapi.json").json()["paths"][REPORT]["post"]
    assert operation["operationId"] == "revoke_credentials"
    assert operation["security"] == []  # while every other operation names the bearer scheme
    assert set(operation["responses"]) >= {"202", "422", "429"}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("CredentialReport")


# Issue 16: the answer is the same work for every token, and the revoking and mailing happen
# after it has been sent, as a task (tokens.tasks.revoke_reported).


@contextmanager
def answered(credentials, **extra):
    """The leak report's answer as the server has it before sending it, and then what happens
    once it has been sent: the WSGI server's close(). The test client would do both at once."""
    handler = BaseHandler()
    handler.load_middleware()
    request = RequestFactory().post(
        REPORT, {"credentials": credentials}, content_type="application/json", **extra
    )
    with CaptureQueriesContext(connection) as queries:
        response = handler.get_response(request)
    response.queries = len(queries)  # what answering took, before it was sent
    yield response
    request_finished.disconnect(close_old_connections)  # keep the test's transaction open
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            response.close()
    finally:
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("live", [True, False], ids=["live", "unknown"])
def test_the_answer_is_sent_before_any_token_is_looked_up(user, org, live):
    token, secret = make_token(owner=user, organization=org)
    reported = secret if live else codec.generate("pat")
    mail.outbox.clear()
    with answered([reported]) as response:
        assert response.status_code == 202 and json.loads(response.content) == ACCEPTED
        assert response.queries == 0
        token.refresh_from_db()
        assert token.revoked_at is None and mail.outbox == []
    token.refresh_from_db()
    assert (token.revoked_at is not None) is live
    assert len(mail.outbox) == (1 if live else 0)


def test_a_thousand_tokens_are_answered_without_a_query(user, org):
    secrets = [make_token(owner=user, organization=org)[1] for _ in range(3)]
    unknown = [codec.generate("pat") for _ in range(997)]
    mail.outbox.clear()
    with answered([*secrets, *unknown]) as response:
        assert response.status_code == 202 and response.queries == 0
    assert len(mail.outbox) == 1  # one email for the three, after the answer


def test_the_queue_is_handed_digests_never_secrets(client, user, org, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    token, secret = make_token(owner=user, organization=org)
    assert report(client, [secret], REMOTE_ADDR="192.0.2.9").status_code == 202
    (queued,) = default_task_backend.results
    assert queued.task.name == "revoke_reported"
    assert queued.kwargs == {"digests": [codec.digest(secret)], "ip": "192.0.2.9"}
    assert secret not in json.dumps([queued.args, queued.kwargs])
    token.refresh_from_db()
    assert token.revoked_at is None  # nothing ran it yet: a queued backend's worker will
    assert revoke_reported.call(**queued.kwargs) == 1
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 401


def test_one_report_of_many_tokens_is_one_email_per_person(client, user, org):
    other = make_user(email="bo@example.com")
    org.memberships.create(user=other, role=Role.MEMBER)
    mine = [make_token(owner=user, organization=org) for _ in range(3)]
    theirs = [make_token(owner=other, organization=org) for _ in range(2)]
    mail.outbox.clear()
    report(client, [secret for _, secret in [*mine, *theirs]])
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "bo@example.com"]
    for message in mail.outbox:
        listed = mine if message.to == [user.email] else theirs
        assert all(token.prefix in message.body for token, _ in listed)
        assert not any(secret[14:] in message.body for _, secret in [*mine, *theirs])
    assert "3 tokens were revoked" in next(m.subject for m in mail.outbox if m.to == [user.email])
