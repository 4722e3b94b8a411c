"""POST /api/v1/tokens/self/rotate and DELETE /api/v1/tokens/self: a token replaces or ends
itself, and nothing else (rule 6), through the same services as the pages."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import TestCase
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import bearer, make_project, make_token
from tokens import codec
from tokens.models import Token
from tokens.permissions import READ_ONLY
from tokens.services import project_token_create

ROTATE = "/api/v1/tokens/self/rotate"
SELF = "/api/v1/tokens/self"


def rotate(client, secret, body=None, **headers):
    """POST with `body` as JSON, or with no body at all (the overlap defaults to none)."""
    data = "" if body is None else body
    return client.post(ROTATE, data, content_type="application/json", **bearer(secret), **headers)


def test_rotating_answers_the_new_secret_once_with_the_replacements_settings(client, user, org):
    project = make_project(organization=org)
    token, secret = make_token(owner=user, organization=org, scopes=READ_ONLY, projects=[project])
    response = rotate(client, secret)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    new = Token.objects.get(pk=body["token"]["id"])
    assert codec.parse(body["secret"]).digest == new.digest
    assert body["token"] == {
        "id": new.pk,
        "name": token.name,
        "kind": "pat",
        "prefix": new.prefix,
        "scopes": sorted(READ_ONLY),
        "all_projects": False,
        "created_at": body["token"]["created_at"],
        "expires_at": body["token"]["expires_at"],
    }
    assert list(new.projects.all()) == [project]
    assert response["Location"] == f"http://testserver{new.get_absolute_url()}"
    token.refresh_from_db()
    assert token.replaced_by_id == new.pk and token.rotated_at is not None
    assert body["replaces"]["prefix"] == token.prefix
    # Without an overlap the calling token stops at once, and its next request is refused.
    refused = client.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["type"].endswith("/token-rotated")
    assert client.get("/api/v1/me", **bearer(body["secret"])).json()["token"]["id"] == new.pk


def test_an_overlap_keeps_the_old_token_working_until_it_ends(client, user, org):
    _token, secret = make_token(owner=user, organization=org)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = rotate(client, secret, {"overlap": "24h"})
        assert response.status_code == 201
        ends = timezone.now() + timedelta(hours=24)
        assert response.json()["replaces"]["expires_at"] == ends.isoformat()[:23] + "Z"
        assert response["Tessera-Token-Expires"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert client.get("/api/v1/me", **bearer(secret)).status_code == 200
        traveller.shift(timedelta(hours=24, seconds=1))
        assert client.get("/api/v1/me", **bearer(secret)).status_code == 401


def test_rotating_a_token_that_was_already_rotated_is_a_409_problem(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    assert rotate(client, secret, {"overlap": "1h"}).status_code == 201
    again = rotate(client, secret, {"overlap": "1h"})
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    problem = again.json()
    assert problem["type"].endswith("/token-already-rotated")
    assert problem["title"] == "Token already rotated"
    assert "rotate its replacement" in problem["detail"]
    assert Token.objects.count() == 2


def test_an_unknown_overlap_is_a_422_and_nothing_changes(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    response = rotate(client, secret, {"overlap": "forever"})
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-error")
    token.refresh_from_db()
    assert token.rotated_at is None and Token.objects.count() == 1


def test_without_a_token_both_are_401(client, db):
    for response in (client.post(ROTATE, "", content_type="application/json"), client.delete(SELF)):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="tessera"'


def test_rotation_is_audited_as_done_by_the_token_itself_and_tells_the_owner(
    client, user, org, django_capture_on_commit_callbacks
):
    """A stolen token that renews itself must not go unseen: its owner is emailed."""
    token, secret = make_token(owner=user, organization=org)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = rotate(client, secret, REMOTE_ADDR="192.0.2.7").json()
    new_prefix = answer["token"]["prefix"]
    event = AuditEvent.objects.get(event="token.rotated", token_id=token.pk)
    assert event.detail["by"] == "the token itself"
    assert event.detail["successor"] == new_prefix
    assert (event.actor_id, event.ip) == (user.pk, "192.0.2.7")
    write = AuditEvent.objects.get(event="api.write", token_id=token.pk)
    assert (write.action, write.status) == (f"POST {ROTATE}", 201)
    [told] = mail.outbox
    assert told.to == [user.email] and "rotated it over the API, from 192.0.2.7" in told.body
    assert new_prefix in told.body and answer["secret"] not in told.body


def test_a_rotated_secret_is_never_kept_for_an_idempotent_replay(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    key = {"HTTP_IDEMPOTENCY_KEY": "rotate-once"}
    first = rotate(client, secret, {"overlap": "1h"}, **key)
    new = first.json()["secret"]
    assert first.status_code == 201
    # Whatever the cache (this process's memory, or Redis in CI), nothing is kept for the key.
    slot = f"idempotency:{token.pk}:{hashlib.sha256(b'rotate-once').hexdigest()}"
    assert cache.get(slot) is None
    retry = rotate(client, secret, {"overlap": "1h"}, **key)
    assert retry.status_code == 409 and new not in retry.content.decode()


def test_a_project_token_rotates_itself(client, user, org):
    project = make_project(organization=org)
    _token, secret = project_token_create(
        project=project, by=user, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    body = rotate(client, secret).json()
    assert body["token"]["kind"] == "prj" and body["token"]["expires_at"] is None
    assert Token.objects.get(pk=body["token"]["id"]).project_id == project.pk


def test_revoking_itself_answers_204_and_the_next_request_is_refused(client, user, org):
    token, secret = make_token(owner=user, organization=org, scopes=READ_ONLY)
    mail.outbox.clear()
    response = client.delete(SELF, **bearer(secret))
    assert response.status_code == 204 and response.content == b""
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by_id == user.pk
    refused = client.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 401 and refused.json()["type"].endswith("/token-revoked")
    event = AuditEvent.objects.get(event="token.revoked", token_id=token.pk)
    assert event.detail["by"] == "the token itself"
    assert mail.outbox == []


def test_a_project_token_revoking_itself_tells_its_overseers(client, user, org):
    project = make_project(organization=org)
    _, secret = project_token_create(
        project=project, by=user, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.delete(SELF, **bearer(secret)).status_code == 204
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "revoked itself" in mail.outbox[0].body


def test_self_service_leaves_every_other_token_alone(client, user, org):
    other, _ = make_token(owner=user, organization=org)
    _, secret = make_token(owner=user, organization=org)
    assert rotate(client, secret).status_code == 201
    _, secret = make_token(owner=user, organization=org)
    assert client.delete(SELF, **bearer(secret)).status_code == 204
    other.refresh_from_db()
    assert other.revoked_at is None and other.rotated_at is None


def test_query_counts_are_pinned(client, user, org, django_assert_num_queries):
    _, secret = make_token(owner=user, organization=org)
    client.get("/api/v1/me", **bearer(secret))  # last use written: not counted below
    # The lookup, the row, then the rotation service: lock, membership, mark, mint (with its
    # savepoints and audit), link, audit; and the API's own audit of the write.
    with django_assert_num_queries(16):
        assert rotate(client, secret).status_code == 201
    _, secret = make_token(owner=user, organization=org)
    client.get("/api/v1/me", **bearer(secret))
    # The lookup, the row, the conditional revoke with its audit, the API's audit of the write.
    with django_assert_num_queries(7):
        assert client.delete(SELF, **bearer(secret)).status_code == 204


def test_both_are_documented_with_their_problems(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    rotate_op = paths[ROTATE]["post"]
    assert rotate_op["operationId"] == "rotate_self"
    assert set(rotate_op["responses"]) >= {"201", "401", "403", "409", "422", "429", "503"}
    assert "application/problem+json" in rotate_op["responses"]["409"]["content"]
    revoke_op = paths[SELF]["delete"]
    assert revoke_op["operationId"] == "revoke_self"
    assert set(revoke_op["responses"]) >= {"204", "401", "403", "429", "503"}


@pytest.mark.parametrize(
    ("reported_after", "heirs_working"),
    # A week on, the first heir's overlap has ended too: only the second is left to end.
    [(timedelta(0), 2), (timedelta(days=8), 1)],
)
def test_a_reported_token_takes_the_successors_it_made_itself_with_it(
    client, user, org, reported_after, heirs_working
):
    """A stolen token rotated itself twice and the report of the original left both heirs
    working; now they go with it, even once the original has expired."""
    _, t0 = make_token(owner=user, organization=org)
    t1 = rotate(client, t0, {"overlap": "7d"}).json()["secret"]
    t2 = rotate(client, t1, {"overlap": "7d"}).json()["secret"]
    with time_machine.travel(timezone.now() + reported_after):
        report = {"credentials": [t0]}
        response = client.post(
            "/api/v1/credentials/revoke", report, content_type="application/json"
        )
        assert response.status_code == 202
        answers = [client.get("/api/v1/me", **bearer(s)).status_code for s in (t0, t1, t2)]
    assert answers == [401, 401, 401]
    reasons = AuditEvent.objects.filter(event="token.revoked").values_list("detail", flat=True)
    made = [d for d in reasons if d.get("reason") == "made by a reported token rotating itself"]
    assert len(made) == heirs_working


def test_a_successor_its_owner_rotated_in_settings_survives_the_report(client, user, org):
    from tokens.services import token_rotate

    token, old = make_token(owner=user, organization=org)
    _, new = token_rotate(token=token, by=user, overlap=timedelta(hours=1))
    client.post(
        "/api/v1/credentials/revoke", {"credentials": [old]}, content_type="application/json"
    )
    assert client.get("/api/v1/me", **bearer(old)).status_code == 401
    assert (
        client.get("/api/v1/me", **bearer(new)).status_code == 200
    )  # its secret went to the owner
