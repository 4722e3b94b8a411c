"""POST /api/v1/credentials/revoke: anyone can report leaked tokens, without a token; every
working one among them is revoked, and the answer never says which existed."""

import pytest
from django.core import mail

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import bearer, make_token, make_user
from tokens import codec
from tokens.services import project_token_create, token_revoke

REPORT = "/api/v1/credentials/revoke"
ACCEPTED = {"status": "accepted"}


def report(client, credentials, **extra):
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
    assert [m.to for m in mail.outbox] == [["ada@example.com", "admin@example.com"]]


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
