"""The HTTP conventions API clients rely on: one error shape, methods, CORS, Location, request
ids, Link paging, ETags, idempotent POSTs, rate limits and X-Accepted-Scopes."""

import json
import re

import pytest
import time_machine
from django.core.cache import cache

from audit.models import AuditEvent
from projects.models import Project, Task
from tests.factories import bearer, make_project, make_token, mcp_call
from tokens.permissions import READ_ONLY

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def secret(user, org):
    return make_token(owner=user, organization=org)[1]


def post(client, path, body, secret, **headers):
    return client.post(
        API + path, json.dumps(body), content_type="application/json", **bearer(secret), **headers
    )


@pytest.mark.parametrize(
    ("request_args", "status", "slug"),
    [
        (("get", "/me", {}), 401, "missing-token"),
        (("get", "/projects/999999", "auth"), 404, "not-found"),
        (("delete", "/projects", "auth"), 405, "method-not-allowed"),
        (("post", "/projects", "auth-empty"), 422, "validation-error"),
        (("get", "/no/such/thing", "auth"), 404, "not-found"),
    ],
)
def test_every_error_is_a_problem_document(client, secret, request_args, status, slug):
    method, path, auth = request_args
    headers = bearer(secret) if auth else {}
    kwargs = {"data": "{}", "content_type": "application/json"} if auth == "auth-empty" else {}
    response = getattr(client, method)(API + path, **kwargs, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"http://testserver/api/v1/problems/{slug}" and body["status"] == status
    assert body["title"] and body["detail"]
    assert client.get(body["type"]).json()["status"] == status  # the type documents itself


def test_a_wrong_method_is_405_with_allow(client, secret):
    response = client.delete(f"{API}/projects", **bearer(secret))
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert "DELETE is not allowed here" in response.json()["detail"]


def test_head_answers_like_get_without_a_body(client, secret, project):
    get = client.get(f"{API}/projects/{project.pk}", **bearer(secret))
    head = client.head(f"{API}/projects/{project.pk}", **bearer(secret))
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == get["ETag"]
    assert head["Content-Length"] == str(len(get.content))


def test_options_lists_the_allowed_methods(client, project):
    response = client.options(f"{API}/projects/{project.pk}")
    assert response.status_code == 204
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PATCH", "DELETE"}


@pytest.mark.parametrize("path", [f"{API}/projects", "/mcp"])
def test_a_cors_preflight_from_an_allowed_origin_is_answered(client, db, settings, path):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.options(
        path,
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    allowed = response["Access-Control-Allow-Headers"]
    assert "authorization" in allowed and "idempotency-key" in allowed
    assert "Access-Control-Allow-Credentials" not in response


def test_other_origins_get_no_cors_headers_and_responses_expose_ours(client, secret, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    stranger = client.get(f"{API}/me", HTTP_ORIGIN="https://evil.example", **bearer(secret))
    assert "Access-Control-Allow-Origin" not in stranger
    friend = client.get(f"{API}/me", HTTP_ORIGIN="https://app.example.com", **bearer(secret))
    exposed = friend["Access-Control-Expose-Headers"]
    for name in ["Location", "Link", "X-Request-Id", "RateLimit", "Retry-After", "ETag"]:
        assert name in exposed


def test_created_objects_come_with_their_location(client, secret, project):
    response = post(client, f"/projects/{project.pk}/tasks", {"title": "New"}, secret)
    assert response.status_code == 201
    task = Task.objects.get(title="New")
    assert response["Location"] == f"http://testserver/api/v1/tasks/{task.pk}"
    assert client.get(response["Location"], **bearer(secret)).json()["id"] == task.pk


def test_request_ids_are_echoed_when_sane_generated_otherwise_and_audited(client, secret, project):
    sane = client.get(f"{API}/me", HTTP_X_REQUEST_ID="ci-run-42.7", **bearer(secret))
    assert sane["X-Request-Id"] == "ci-run-42.7"
    for bad in ["", "x" * 65, "spaces are not ok", "line\nbreak"]:
        response = client.get(f"{API}/me", HTTP_X_REQUEST_ID=bad, **bearer(secret))
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])
    write = post(client, "/projects", {"name": "Traced"}, secret, HTTP_X_REQUEST_ID="trace-1")
    event = AuditEvent.objects.get(event="api.write")
    assert write["X-Request-Id"] == "trace-1" and event.detail["request_id"] == "trace-1"


def test_lists_link_their_pages_and_honour_page_sizes_up_to_200(client, secret, org):
    for n in range(205):
        Project.objects.create(organization=org, name=f"P{n:03}")
    first = client.get(f"{API}/projects?page_size=150", **bearer(secret))
    assert len(first.json()["items"]) == 150 and first.json()["count"] == 205
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first["Link"]))
    assert set(links) == {"first", "last", "next"}
    second = client.get(links["next"], **bearer(secret))
    assert len(second.json()["items"]) == 55
    assert 'rel="prev"' in second["Link"] and 'rel="next"' not in second["Link"]
    assert client.get(f"{API}/projects?page_size=201", **bearer(secret)).status_code == 422


def test_single_objects_have_an_etag_and_if_none_match_gets_304(client, secret, project):
    first = client.get(f"{API}/projects/{project.pk}", **bearer(secret))
    etag = first["ETag"]
    again = client.get(f"{API}/projects/{project.pk}", HTTP_IF_NONE_MATCH=etag, **bearer(secret))
    assert again.status_code == 304 and again.content == b""
    client.patch(
        f"{API}/projects/{project.pk}", json.dumps({"name": "Renamed"}),
        content_type="application/json", **bearer(secret),
    )  # fmt: skip
    changed = client.get(f"{API}/projects/{project.pk}", HTTP_IF_NONE_MATCH=etag, **bearer(secret))
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_retried_post_with_the_same_key_is_done_once(client, secret, project):
    path = f"/projects/{project.pk}/tasks"
    first = post(client, path, {"title": "Once"}, secret, HTTP_IDEMPOTENCY_KEY="k-1")
    retry = post(client, path, {"title": "Once"}, secret, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Task.objects.filter(title="Once").count() == 1
    other = post(client, path, {"title": "Other"}, secret, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert other.json()["type"] == "http://testserver/api/v1/problems/idempotency-key-reused"


def test_a_key_is_forgotten_after_a_day_and_never_shared_between_tokens(
    client, user, org, secret, project
):
    path = f"/projects/{project.pk}/tasks"
    _, other_secret = make_token(owner=user, organization=org)
    post(client, path, {"title": "Mine"}, secret, HTTP_IDEMPOTENCY_KEY="shared")
    theirs = post(client, path, {"title": "Mine"}, other_secret, HTTP_IDEMPOTENCY_KEY="shared")
    assert "Idempotent-Replayed" not in theirs
    assert Task.objects.filter(title="Mine").count() == 2


def test_a_post_still_running_with_the_key_is_a_409(client, user, secret, project):
    import hashlib

    token_pk = AuditEvent.objects.get(event="token.created").token_id
    slot = f"idempotency:{token_pk}:{hashlib.sha256(b'busy').hexdigest()}"
    cache.set(slot, {"state": "running", "fingerprint": "x"}, 60)
    response = post(client, f"/projects/{project.pk}/tasks", {"title": "x"}, secret,
                    HTTP_IDEMPOTENCY_KEY="busy")  # fmt: skip
    assert response.status_code == 409
    assert not Task.objects.filter(title="x").exists()


def test_every_authenticated_answer_says_where_the_token_stands(client, secret, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    with time_machine.travel("2026-11-23 10:00:20", tick=False):
        answers = [client.get(f"{API}/me", **bearer(secret)) for _ in range(4)]
    first = answers[0]
    assert first["RateLimit-Policy"] == '"token";q=3;w=60'
    # A rolling minute: the three requests of 10:00:20 leave it with their bucket, at 10:01:25.
    assert first["RateLimit"] == '"token";r=2;t=65'
    assert first["X-RateLimit-Limit"] == "3" and first["X-RateLimit-Remaining"] == "2"
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused["Retry-After"] == "65" and refused["Content-Type"] == PROBLEM
    assert refused.json()["type"] == "http://testserver/api/v1/problems/rate-limited"


def test_a_304_does_not_count_against_the_limit(client, secret, project, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    url = f"{API}/projects/{project.pk}"
    etag = client.get(url, **bearer(secret))["ETag"]
    for _ in range(5):
        unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(secret))
        assert unchanged.status_code == 304 and unchanged["X-RateLimit-Remaining"] == "2"
    assert client.get(url, **bearer(secret))["X-RateLimit-Remaining"] == "1"


def test_the_rate_limit_is_per_token_and_off_at_zero(client, user, org, secret, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    _, other = make_token(owner=user, organization=org)
    assert client.get(f"{API}/me", **bearer(secret)).status_code == 200
    assert client.get(f"{API}/me", **bearer(other)).status_code == 200
    assert client.get(f"{API}/me", **bearer(secret)).status_code == 429
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    response = client.get(f"{API}/me", **bearer(secret))
    assert response.status_code == 200 and "RateLimit" not in response


def test_responses_name_the_scope_the_operation_needed(client, user, org, project):
    _, reader = make_token(owner=user, organization=org, scopes=READ_ONLY)
    ok = client.get(f"{API}/projects/{project.pk}/tasks", **bearer(reader))
    assert ok["X-Accepted-Scopes"] == "tasks:read"
    refused = post(client, f"/projects/{project.pk}/tasks", {"title": "x"}, reader)
    assert refused.status_code == 403 and refused["X-Accepted-Scopes"] == "tasks:write"


def test_patch_refuses_an_explicit_null_but_leaves_missing_fields_alone(client, secret, project):
    task = Task.objects.create(project=project, title="Keep", description="also kept")
    for field in ["title", "status", "description"]:
        response = client.patch(
            f"{API}/tasks/{task.pk}", json.dumps({field: None}),
            content_type="application/json", **bearer(secret),
        )  # fmt: skip
        assert response.status_code == 422, field
    ok = client.patch(
        f"{API}/tasks/{task.pk}", json.dumps({"status": "done"}),
        content_type="application/json", **bearer(secret),
    )  # fmt: skip
    assert ok.json()["title"] == "Keep" and ok.json()["description"] == "also kept"


def test_a_task_looks_the_same_over_rest_and_mcp(client, user, org):
    project = make_project(organization=org)
    task = Task.objects.create(project=project, title="Same", status="in_progress")
    _, secret = make_token(owner=user, organization=org)
    rest = client.get(f"{API}/tasks/{task.pk}", **bearer(secret)).json()
    params = {"name": "get_task", "arguments": {"task_id": task.pk}}
    mcp = mcp_call(client, secret, "tools/call", params)
    assert mcp.json()["result"]["structuredContent"] == rest
