"""The SDK against a stand-in server (httpx.MockTransport): errors in both of the server's
shapes, retries, and both ways of paging. No network, no database, no real sleeping."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import tessera_client
from tessera_client import (
    AuthenticationError,
    Client,
    Conflict,
    ConnectionFailed,
    InsufficientScope,
    Me,
    NotFound,
    NotTesseraServer,
    PermissionDenied,
    Project,
    RateLimited,
    RotatedToken,
    ServerError,
    Task,
    TesseraError,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
    TokenRevoked,
    ValidationFailed,
)

from tokens import codec

BASE = "http://tessera.test"
SECRET = codec.generate("pat")
PROBLEM = "application/problem+json"
TASK = {
    "id": 7,
    "project_id": 1,
    "title": "Write the release notes",
    "description": "",
    "status": "todo",
    "created_at": "2026-01-02T03:04:05.678Z",
    "updated_at": "2026-01-02T03:04:05.678Z",
}


def project(pk: int) -> dict:
    return {
        "id": pk,
        "name": f"Project {pk}",
        "description": "",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
    }


class Server:
    """Answers each request with the next scripted response and remembers what it was sent."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def slept() -> list[float]:
    return []


def connect(server: Server, slept: list[float] | None = None, **options) -> Client:
    return Client(
        BASE,
        token=SECRET,
        transport=httpx.MockTransport(server),
        sleep=(slept if slept is not None else []).append,
        **options,
    )


def problem(status: int, slug: str, detail: str, headers=None, **extra) -> httpx.Response:
    body = {
        "type": f"/api/v1/problems/{slug}",
        "title": slug.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        **extra,
    }
    return httpx.Response(status, json=body, headers={"Content-Type": PROBLEM, **(headers or {})})


def bearer_challenge(status: int, error: str | None, description: str, scope=None):
    """Today's RFC 6750 answer: the challenge header and the JSON body that mirrors it."""
    params = ['realm="tessera"']
    body = {"error": error or "missing_token", "error_description": description}
    if error:
        params += [f'error="{error}"', f'error_description="{description}"']
    if scope:
        params.append(f'scope="{scope}"')
        body["scope"] = scope
    return httpx.Response(
        status, json=body, headers={"WWW-Authenticate": "Bearer " + ", ".join(params)}
    )


def raised(response: httpx.Response) -> TesseraError:
    with (
        connect(Server(response), max_retries=0) as client,
        pytest.raises(TesseraError) as caught,
    ):
        client.me()
    return caught.value


# Requests


def test_every_request_carries_the_bearer_token_user_agent_and_api_prefix():
    server = Server(httpx.Response(200, json=project(1)))
    with connect(server) as client:
        client.projects.get(1)
    request = server.requests[0]
    assert str(request.url) == f"{BASE}/api/v1/projects/1"
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.headers["User-Agent"] == "tessera-client/0.1.0"
    assert tessera_client.__version__ == "0.1.0"
    assert "Idempotency-Key" not in request.headers


def test_a_base_url_given_with_the_api_prefix_or_a_slash_is_the_same_site():
    for url in (f"{BASE}/", f"{BASE}/api/v1", f"{BASE}/api/v1/"):
        assert Client(url, token=SECRET).base_url == BASE
    with pytest.raises(ValueError, match="not an http"):
        Client("ftp://tessera.test", token=SECRET)
    with pytest.raises(ValueError, match="not a valid URL"):
        Client("http://[::1", token=SECRET)


def test_a_token_with_a_pasted_ellipsis_or_line_break_is_refused_before_sending():
    for pasted in ("tsr_pat_Ab12Cd…", f"{SECRET}\nsecond line", f"Bearer {SECRET}"):
        with pytest.raises(TokenInvalid, match="copy it again"):
            Client(BASE, token=pasted)


def test_each_post_gets_a_fresh_uuid4_idempotency_key():
    server = Server(httpx.Response(201, json=TASK), httpx.Response(201, json=TASK))
    with connect(server) as client:
        client.tasks.create(1, title="One")
        client.tasks.create(1, title="Two")
    first, second = (request.headers["Idempotency-Key"] for request in server.requests)
    assert first != second
    assert all(len(key) == 36 and key[14] == "4" for key in (first, second))
    assert json.loads(server.requests[0].content) == {
        "title": "One",
        "description": "",
        "status": "todo",
    }


def test_update_patches_only_the_fields_given():
    server = Server(httpx.Response(200, json=TASK), httpx.Response(200, json=project(1)))
    with connect(server) as client:
        task = client.tasks.update(7, status="done")
        client.projects.update(1, description="")
    assert server.requests[0].method == "PATCH"
    assert json.loads(server.requests[0].content) == {"status": "done"}
    assert json.loads(server.requests[1].content) == {"description": ""}
    assert isinstance(task, Task) and task.id == 7


def test_delete_returns_none_on_204():
    server = Server(httpx.Response(204))
    with connect(server) as client:
        assert client.tasks.delete(7) is None
    assert (server.requests[0].method, server.requests[0].url.path) == ("DELETE", "/api/v1/tasks/7")


def test_me_is_parsed_into_dataclasses_and_keeps_the_servers_object():
    body = {
        "user": {"email": "ada@example.com", "name": "Ada"},
        "organization": {"slug": "acme", "name": "Acme", "role": "member"},
        "token": {
            "name": "CI",
            "kind": "pat",
            "prefix": "tsr_pat_Ab12Cd",
            "scopes": ["projects:read", "tasks:write"],
            "effective_scopes": ["projects:read", "tasks:write"],
            "all_projects": False,
            "projects": [{"id": 1, "name": "Website"}],
            "created_at": "2026-01-02T03:04:05Z",
            "expires_at": None,
        },
    }
    with connect(Server(httpx.Response(200, json=body))) as client:
        me = client.me()
    assert isinstance(me, Me)
    assert (me.user.email, me.organization.role, me.token.prefix) == (
        "ada@example.com",
        "member",
        "tsr_pat_Ab12Cd",
    )
    assert me.token.projects[0].name == "Website"
    assert me.token.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert me.token.expires_at is None
    assert me.raw == body


def test_a_success_that_is_not_json_is_an_error_not_a_crash():
    server = Server(httpx.Response(200, text="<html>proxy login</html>"))
    with connect(server) as client, pytest.raises(TesseraError, match="not JSON"):
        client.me()


# Errors, in the problem+json shape


@pytest.mark.parametrize(
    ("status", "slug", "expected"),
    [
        (401, "missing-token", TokenMissing),
        (401, "malformed-token", TokenInvalid),
        (401, "unknown-token", TokenInvalid),
        (401, "token-revoked", TokenRevoked),
        (401, "token-expired", TokenExpired),
        (401, "owner-inactive", AuthenticationError),
        (403, "insufficient-scope", InsufficientScope),
        (404, "not-found", NotFound),
        (422, "validation-error", ValidationFailed),
        (413, "payload-too-large", ValidationFailed),
        (429, "rate-limited", RateLimited),
        (405, "method-not-allowed", TesseraError),
        (503, "service-unavailable", ServerError),
        (500, "server-error", ServerError),
    ],
)
def test_a_problem_is_classified_by_its_type(status, slug, expected):
    error = raised(problem(status, slug, "Because.", headers={"X-Request-Id": "req-42"}))
    assert type(error) is expected
    assert error.status == status
    assert error.type == f"/api/v1/problems/{slug}"
    assert error.detail == "Because."
    assert error.request_id == "req-42"


def test_the_problem_type_wins_over_the_challenge_header():
    response = problem(
        401,
        "token-expired",
        "The access token expired.",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token", error_description="revoked"'},
    )
    assert type(raised(response)) is TokenExpired


def test_a_problem_insufficient_scope_names_the_scope():
    response = problem(
        403,
        "insufficient-scope",
        "This token does not have the tasks:write scope.",
        headers={"WWW-Authenticate": 'Bearer realm="tessera", error="insufficient_scope"'},
        scope="tasks:write",
    )
    error = raised(response)
    assert isinstance(error, InsufficientScope) and isinstance(error, PermissionDenied)
    assert error.scope == "tasks:write"


def test_a_problem_validation_error_carries_its_errors():
    errors = [{"loc": ["body", "payload", "title"], "msg": "Field required"}]
    error = raised(problem(422, "validation-error", "The request is not valid.", errors=errors))
    assert isinstance(error, ValidationFailed)
    assert error.errors == errors


def test_rate_limited_carries_retry_after_in_seconds_and_is_not_retried(slept):
    server = Server(problem(429, "rate-limited", "Slow down.", headers={"Retry-After": "30"}))
    with connect(server, slept) as client, pytest.raises(RateLimited) as caught:
        client.projects.list()
    assert caught.value.retry_after == 30
    assert len(server.requests) == 1
    assert slept == []


def test_rate_limited_reads_an_http_date_retry_after_too():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    error = raised(problem(429, "rate-limited", "Slow down.", headers={"Retry-After": later}))
    assert isinstance(error, RateLimited)
    assert 115 <= error.retry_after <= 120


def test_rate_limited_without_retry_after_has_none():
    assert raised(problem(429, "rate-limited", "Slow down.")).retry_after is None


# Errors, in today's RFC 6750 shape


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("The access token was revoked.", TokenRevoked),
        ("The access token expired.", TokenExpired),
        ("The access token is malformed.", TokenInvalid),
        ("The access token is not recognised.", TokenInvalid),
        ("The access token's owner no longer has access.", AuthenticationError),
    ],
)
def test_an_invalid_token_challenge_is_classified_by_its_description(description, expected):
    error = raised(bearer_challenge(401, "invalid_token", description))
    assert type(error) is expected
    assert error.status == 401
    assert error.detail == description
    assert error.type == "invalid_token"


def test_the_challenge_header_alone_is_enough():
    response = httpx.Response(
        401,
        text="Unauthorized",
        headers={
            "WWW-Authenticate": (
                'Bearer realm="tessera", error="invalid_token", '
                'error_description="The access token was revoked."'
            )
        },
    )
    assert type(raised(response)) is TokenRevoked


def test_a_challenge_without_an_error_code_means_no_token_was_sent():
    error = raised(bearer_challenge(401, None, "Send a token: Authorization: Bearer <token>."))
    assert type(error) is TokenMissing


def test_an_insufficient_scope_challenge_names_the_scope():
    description = "This token does not have the tasks:write scope."
    error = raised(bearer_challenge(403, "insufficient_scope", description, "tasks:write"))
    assert type(error) is InsufficientScope
    assert error.scope == "tasks:write"


def test_a_quoted_challenge_value_is_unescaped():
    response = httpx.Response(
        403,
        headers={
            "WWW-Authenticate": (
                'Bearer realm="tessera", error="insufficient_scope", '
                'error_description="Say \\"please\\".", scope="projects:write"'
            )
        },
    )
    error = raised(response)
    assert error.detail == 'Say "please".'
    assert error.scope == "projects:write"


def test_todays_404_and_422_bodies_are_classified():
    assert type(raised(httpx.Response(404, json={"detail": "Not Found"}))) is NotFound
    errors = [{"type": "missing", "loc": ["body", "payload", "title"], "msg": "Field required"}]
    error = raised(httpx.Response(422, json={"detail": errors}))
    assert type(error) is ValidationFailed
    assert error.errors == errors


def test_todays_503_body_is_a_server_error_with_its_description():
    body = {"error": "service_unavailable", "error_description": "Try again shortly."}
    server = Server(*[httpx.Response(503, json=body)] * 3)
    with connect(server) as client, pytest.raises(ServerError, match="Try again shortly"):
        client.me()


def test_a_redirect_is_not_followed_and_says_where_it_pointed():
    server = Server(httpx.Response(301, headers={"Location": "https://tessera.test/api/v1/me"}))
    with connect(server) as client, pytest.raises(TesseraError) as caught:
        client.me()
    assert str(caught.value) == (
        "redirected to https://tessera.test/api/v1/me: use that address as the URL"
    )
    assert len(server.requests) == 1


def test_an_unexpected_status_without_a_body_is_still_typed():
    assert type(raised(httpx.Response(502))) is ServerError
    assert type(raised(httpx.Response(418, json={"detail": "I'm a teapot"}))) is TesseraError


# Retries


def test_a_503_post_is_retried_after_retry_after_with_the_same_idempotency_key(slept):
    server = Server(
        problem(503, "service-unavailable", "Database away.", headers={"Retry-After": "3"}),
        httpx.Response(201, json=TASK),
    )
    with connect(server, slept) as client:
        task = client.tasks.create(1, title="Write the release notes")
    assert task.title == "Write the release notes"
    assert slept == [3]
    first, retry = server.requests
    assert first.headers["Idempotency-Key"] == retry.headers["Idempotency-Key"]
    assert first.content == retry.content


def test_retry_after_is_capped(slept):
    server = Server(
        httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200, json=project(1))
    )
    with connect(server, slept) as client:
        client.projects.get(1)
    assert slept == [30.0]


def test_503_is_retried_max_retries_times_then_raised(slept):
    server = Server(*[httpx.Response(503, headers={"Retry-After": "1"})] * 3)
    with connect(server, slept, max_retries=2) as client, pytest.raises(ServerError):
        client.projects.get(1)
    assert len(server.requests) == 3
    assert slept == [1, 1]


def test_connection_errors_are_retried_with_backoff_for_get_and_delete(slept):
    server = Server(
        httpx.ConnectError("Connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(204),
    )
    with connect(server, slept) as client:
        client.projects.delete(1)
    assert len(server.requests) == 3
    assert slept == [0.5, 1.0]


def test_a_connection_that_never_succeeds_raises_connection_failed(slept):
    server = Server(*[httpx.ConnectError("[Errno 111] Connection refused")] * 3)
    with connect(server, slept) as client, pytest.raises(ConnectionFailed) as caught:
        client.me()
    assert str(caught.value) == f"cannot reach {BASE}: [Errno 111] Connection refused"
    assert caught.value.status is None
    assert len(slept) == 2


def test_a_patch_is_never_retried(slept):
    server = Server(httpx.Response(503, headers={"Retry-After": "1"}))
    with connect(server, slept) as client, pytest.raises(ServerError):
        client.tasks.update(7, title="Again")
    assert len(server.requests) == 1
    assert slept == []


def test_other_errors_are_not_retried(slept):
    server = Server(problem(500, "server-error", "Oops."))
    with connect(server, slept) as client, pytest.raises(ServerError):
        client.projects.get(1)
    assert len(server.requests) == 1


# Pagination


def test_pages_follow_the_link_header_to_the_end():
    server = Server(
        httpx.Response(
            200,
            json={"items": [project(1), project(2)], "count": 5},
            headers={"Link": f'<{BASE}/api/v1/projects?cursor=b>; rel="next"'},
        ),
        httpx.Response(
            200,
            json={"items": [project(3), project(4)], "count": 5},
            headers={
                "Link": '</api/v1/projects?cursor=a>; rel="prev", '
                '</api/v1/projects?cursor=c>; rel="next"'
            },
        ),
        httpx.Response(
            200,
            json={"items": [project(5)], "count": 5},
            headers={"Link": '</api/v1/projects?cursor=b>; rel="prev"'},
        ),
    )
    with connect(server) as client:
        projects = client.projects.list(page_size=2)
    assert [p.id for p in projects] == [1, 2, 3, 4, 5]
    assert all(isinstance(p, Project) for p in projects)
    assert [str(r.url) for r in server.requests] == [
        f"{BASE}/api/v1/projects?page=1&page_size=2",
        f"{BASE}/api/v1/projects?cursor=b",
        f"{BASE}/api/v1/projects?cursor=c",
    ]


def test_without_links_the_page_number_goes_up_until_count_items_were_seen():
    server = Server(
        httpx.Response(200, json={"items": [project(1), project(2)], "count": 5}),
        httpx.Response(200, json={"items": [project(3), project(4)], "count": 5}),
        httpx.Response(200, json={"items": [project(5)], "count": 5}),
    )
    with connect(server) as client:
        assert [p.id for p in client.projects.iter(page_size=2)] == [1, 2, 3, 4, 5]
    assert [dict(r.url.params) for r in server.requests] == [
        {"page": "1", "page_size": "2"},
        {"page": "2", "page_size": "2"},
        {"page": "3", "page_size": "2"},
    ]


def test_without_a_count_paging_stops_at_the_first_empty_page():
    server = Server(
        httpx.Response(200, json={"items": [TASK]}),
        httpx.Response(200, json={"items": []}),
    )
    with connect(server) as client:
        assert [t.id for t in client.tasks.list(1)] == [7]
    assert len(server.requests) == 2


def test_a_server_that_ignores_the_page_number_is_not_asked_forever():
    same = httpx.Response(200, json={"items": [project(1)]})
    server = Server(same, same, same)
    with connect(server) as client, pytest.raises(TesseraError, match="same page twice"):
        client.projects.list()
    assert len(server.requests) == 2


def test_iter_fetches_the_next_page_only_when_asked():
    server = Server(
        httpx.Response(200, json={"items": [project(1)], "count": 2}),
        httpx.Response(200, json={"items": [project(2)], "count": 2}),
    )
    with connect(server) as client:
        first = next(client.projects.iter(page_size=1))
    assert first.id == 1
    assert len(server.requests) == 1


def test_a_next_link_to_another_server_is_refused():
    server = Server(
        httpx.Response(
            200,
            json={"items": [project(1)], "count": 2},
            headers={"Link": '<https://elsewhere.test/steal>; rel="next"'},
        )
    )
    with connect(server) as client, pytest.raises(TesseraError, match="another origin"):
        client.projects.list()
    assert len(server.requests) == 1


def test_one_page_reports_its_count_and_next_link():
    server = Server(
        httpx.Response(
            200,
            json={"items": [project(1)], "count": 9},
            headers={"Link": '</api/v1/projects?page=2&page_size=1>; rel="next"'},
        )
    )
    with connect(server) as client:
        page = client.projects.page(1, page_size=1)
    assert page.count == 9
    assert page.next_url == f"{BASE}/api/v1/projects?page=2&page_size=1"


def test_a_status_filter_is_sent_and_also_applied_here():
    done = {**TASK, "id": 8, "status": "done"}
    server = Server(httpx.Response(200, json={"items": [TASK, done], "count": 2}))
    with connect(server) as client:
        assert [t.id for t in client.tasks.list(1, status="done")] == [8]
        with pytest.raises(ValueError, match="status must be one of"):
            client.tasks.list(1, status="someday")
    assert server.requests[0].url.params["status"] == "done"
    assert len(server.requests) == 1


# Packaging


def test_the_client_imports_nothing_from_django():
    code = (
        "import sys, tessera_client, tessera_client.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# The token acting on itself


ROTATED = {
    "secret": "tsr_pat_new",
    "token": {
        "id": 2, "name": "CI", "kind": "pat", "prefix": "tsr_pat_Zz9999", "scopes": ["tasks:read"],
        "all_projects": True, "created_at": "2026-01-02T03:04:05Z", "expires_at": None,
    },
    "replaces": {"id": 1, "prefix": "tsr_pat_Ab12Cd", "expires_at": "2026-01-03T03:04:05Z"},
}  # fmt: skip


def test_rotate_self_posts_once_and_the_client_sends_the_new_token_from_then_on(slept):
    server = Server(httpx.Response(201, json=ROTATED), httpx.Response(204))
    with connect(server, slept) as client:
        rotated = client.tokens.rotate_self(overlap="1h")
        client.tokens.revoke_self()
    assert isinstance(rotated, RotatedToken) and rotated.secret == "tsr_pat_new"
    assert "tsr_pat_new" not in repr(rotated)
    assert rotated.token.prefix == "tsr_pat_Zz9999" and rotated.replaced_prefix == "tsr_pat_Ab12Cd"
    assert rotated.replaced_expires_at == datetime(2026, 1, 3, 3, 4, 5, tzinfo=UTC)
    rotate, revoke = server.requests
    assert (rotate.method, rotate.url.path) == ("POST", "/api/v1/tokens/self/rotate")
    assert json.loads(rotate.content) == {"overlap": "1h"}
    assert "Idempotency-Key" not in rotate.headers
    assert (revoke.method, revoke.url.path) == ("DELETE", "/api/v1/tokens/self")
    assert revoke.headers["Authorization"] == "Bearer tsr_pat_new"


def test_rotate_self_is_never_retried_since_its_answer_cannot_be_given_twice(slept):
    server = Server(httpx.Response(503, headers={"Retry-After": "1"}))
    with connect(server, slept) as client, pytest.raises(ServerError):
        client.tokens.rotate_self()
    assert len(server.requests) == 1 and slept == []
    with connect(Server(), slept) as client, pytest.raises(ValueError, match="overlap must be"):
        client.tokens.rotate_self(overlap="forever")


def test_a_409_is_a_conflict():
    error = raised(problem(409, "token-already-rotated", "Rotate its replacement instead."))
    assert type(error) is Conflict and error.status == 409


def test_the_client_remembers_when_its_token_expires():
    header = {"Tessera-Token-Expires": "2031-05-17T08:30:12Z"}
    server = Server(httpx.Response(200, json=project(1), headers=header))
    with connect(server) as client:
        assert client.token_expires_at is None
        client.projects.get(1)
        assert client.token_expires_at == datetime(2031, 5, 17, 8, 30, 12, tzinfo=UTC)


def test_an_html_404_is_not_tessera_not_not_found():
    error = raised(
        httpx.Response(404, text="<h1>Not Found</h1>", headers={"Content-Type": "text/html"})
    )
    assert type(error) is NotTesseraServer
    assert str(error) == (
        f"{BASE} is not a Tessera server: GET /api/v1/me answered HTTP 404 with text/html, "
        "not a Tessera API error"
    )
