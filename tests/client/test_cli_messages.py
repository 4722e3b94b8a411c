"""The CLI in-process against a stand-in server: which exit code and which one-line message each
failure gets, in both of the server's error shapes, and where the URL and token come from.

test_cli.py runs the installed command against a live server; this covers what a live server
cannot be made to say on demand (429, 5xx, an unreachable host, tomorrow's problem+json).
"""

import json

import httpx
import pytest
from click.testing import CliRunner
from tessera_client import config
from tessera_client.cli import State, main

from tokens import codec

SECRET = codec.generate("pat")
ME = {
    "user": {"email": "ada@example.com", "name": "Ada"},
    "organization": {"slug": "acme", "name": "Acme", "role": "owner"},
    "token": {
        "name": "CI",
        "kind": "pat",
        "prefix": "tsr_pat_000000",
        "scopes": ["projects:read"],
        "effective_scopes": ["projects:read"],
        "all_projects": True,
        "projects": None,
        "created_at": "2026-01-02T03:04:05Z",
        "expires_at": None,
    },
}


def invoke(args, respond, *, token: str | None = SECRET, env=None, stdin: str | None = None):
    """Run `tessera ARGS` with `respond(request)` as the server; returns (result, requests)."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = respond(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    state = State(client_options={"transport": httpx.MockTransport(handler), "sleep": no_sleep})
    environment = {"TESSERA_TOKEN": token, **(env or {})}
    result = CliRunner().invoke(main, args, obj=state, env=environment, input=stdin)
    return result, requests


def no_sleep(seconds: float) -> None:
    pass


def problem(status: int, slug: str, detail: str, headers=None, **extra):
    body = {"type": f"/api/v1/problems/{slug}", "title": slug, "status": status, "detail": detail}
    headers = {"Content-Type": "application/problem+json", **(headers or {})}
    return lambda request: httpx.Response(status, json={**body, **extra}, headers=headers)


def challenge(status: int, error: str, description: str, scope: str | None = None):
    header = f'Bearer realm="tessera", error="{error}", error_description="{description}"'
    body = {"error": error, "error_description": description}
    if scope:
        header += f', scope="{scope}"'
        body["scope"] = scope
    return lambda request: httpx.Response(status, json=body, headers={"WWW-Authenticate": header})


def failure(result) -> str:
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


SETTINGS = "http://127.0.0.1:8000/settings/developer/"


@pytest.mark.parametrize(
    ("respond", "code", "line"),
    [
        (
            problem(401, "token-revoked", "The access token was revoked."),
            3,
            f"tessera: token revoked: create a new one at {SETTINGS} and run tessera auth login",
        ),
        (
            challenge(401, "invalid_token", "The access token was revoked."),
            3,
            f"tessera: token revoked: create a new one at {SETTINGS} and run tessera auth login",
        ),
        (
            problem(401, "token-rotated", "The access token was rotated; use its replacement."),
            3,
            "tessera: token rotated: log in with its replacement (tessera auth login)",
        ),
        (
            challenge(401, "invalid_token", "The access token was rotated; use its replacement."),
            3,
            "tessera: token rotated: log in with its replacement (tessera auth login)",
        ),
        (
            problem(
                403,
                "ip-not-allowed",
                "This token may not be used from 192.0.2.9: it is restricted to other addresses.",
            ),
            4,
            "tessera: permission denied: this token may not be used from 192.0.2.9: it is "
            "restricted to other addresses",
        ),
        (
            problem(401, "token-expired", "The access token expired."),
            3,
            f"tessera: token expired: create a new one at {SETTINGS} and run tessera auth login",
        ),
        (
            challenge(401, "invalid_token", "The access token expired."),
            3,
            f"tessera: token expired: create a new one at {SETTINGS} and run tessera auth login",
        ),
        (
            problem(401, "unknown-token", "The access token is not recognised."),
            3,
            "tessera: token not accepted (the access token is not recognised): check it was "
            f"copied whole, or create a new one at {SETTINGS} and run tessera auth login",
        ),
        (
            challenge(401, "invalid_token", "The access token's owner no longer has access."),
            3,
            "tessera: authentication failed: the access token's owner no longer has access",
        ),
        (
            problem(403, "insufficient-scope", "No.", scope="tasks:write"),
            4,
            "tessera: permission denied: this token lacks tasks:write: "
            f"create one with it at {SETTINGS}",
        ),
        (
            challenge(
                403,
                "insufficient_scope",
                "Your role in this organization (viewer) does not allow tasks:write.",
                "tasks:write",
            ),
            4,
            "tessera: permission denied: this token lacks tasks:write "
            "(your role in this organization (viewer) does not allow tasks:write)",
        ),
        (
            problem(429, "rate-limited", "Too many requests.", headers={"Retry-After": "30"}),
            6,
            "tessera: rate limited: retry in 30 s",
        ),
        (
            problem(429, "rate-limited", "Too many requests."),
            6,
            "tessera: rate limited: wait a little, then retry",
        ),
        (
            problem(500, "server-error", "Something broke.", headers={"X-Request-Id": "r-1"}),
            1,
            "tessera: server error (HTTP 500): something broke; try again later (request id r-1)",
        ),
        (
            lambda request: httpx.Response(302, headers={"Location": "https://t.test/api/v1/me"}),
            1,
            "tessera: request failed (HTTP 302): redirected to https://t.test/api/v1/me: "
            "use that address as the URL",
        ),
        (
            lambda request: httpx.Response(200, text="<html>Sign in to the proxy</html>"),
            1,
            "tessera: http://127.0.0.1:8000 is not a Tessera server: GET /api/v1/me answered "
            "HTTP 200 with text/plain, not JSON: check --url or TESSERA_URL",
        ),
        (
            lambda request: httpx.ConnectError("[Errno 111] Connection refused"),
            1,
            "tessera: cannot reach http://127.0.0.1:8000: [Errno 111] Connection refused: "
            "is the server running there? check --url or TESSERA_URL",
        ),
    ],
)
def test_each_failure_gets_its_exit_code_and_one_line_that_says_what_to_do(respond, code, line):
    config.save(url="http://127.0.0.1:8000", token=SECRET)  # logged in
    result, _ = invoke(["whoami", "-o", "json"], respond, token=None)
    assert result.exit_code == code
    assert failure(result) == line


@pytest.mark.parametrize(
    ("respond", "line"),
    [
        (
            problem(401, "token-rotated", "The access token was rotated; use its replacement."),
            "tessera: token rotated: set TESSERA_TOKEN to its replacement",
        ),
        (
            challenge(401, "invalid_token", "The access token was rotated; use its replacement."),
            "tessera: token rotated: set TESSERA_TOKEN to its replacement",
        ),
        (
            problem(401, "token-revoked", "The access token was revoked."),
            f"tessera: token revoked: create a new one at {SETTINGS} and set TESSERA_TOKEN to it",
        ),
        (
            problem(401, "token-expired", "The access token expired."),
            f"tessera: token expired: create a new one at {SETTINGS} and set TESSERA_TOKEN to it",
        ),
    ],
)
def test_a_token_from_tessera_token_is_replaced_in_the_variable_not_by_logging_in(respond, line):
    # TESSERA_TOKEN wins over a saved token, so `tessera auth login` would change nothing.
    config.save(url="http://127.0.0.1:8000", token=codec.generate("pat"))
    result, _ = invoke(["whoami"], respond)
    assert result.exit_code == 3
    assert failure(result) == line
    assert "auth login" not in line


def test_a_404_names_what_was_missing_in_either_shape():
    for respond in (
        problem(404, "not-found", "Not Found"),
        lambda request: httpx.Response(404, json={"detail": "Not Found"}),
    ):
        result, _ = invoke(["tasks", "get", "42"], respond)
        assert result.exit_code == 5
        assert failure(result) == "tessera: not found: task 42"


def test_a_refused_input_names_the_field_in_either_shape():
    errors = [{"type": "string_too_long", "loc": ["body", "payload", "title"], "msg": "Too long"}]
    for respond in (
        problem(422, "validation-error", "The request is not valid.", errors=errors),
        lambda request: httpx.Response(422, json={"detail": errors}),
    ):
        result, _ = invoke(["tasks", "create", "--project", "1", "--title", "x"], respond)
        assert result.exit_code == 1
        assert failure(result) == "tessera: invalid input: title: Too long"


def test_without_any_token_nothing_is_sent():
    result, requests = invoke(["whoami"], lambda request: httpx.Response(200, json=ME), token=None)
    assert result.exit_code == 3
    assert "not logged in" in failure(result)
    assert requests == []


def test_output_can_be_chosen_before_or_after_the_command():
    for args in (["-o", "json", "whoami"], ["whoami", "-o", "json"], ["whoami", "--output=json"]):
        result, _ = invoke(args, lambda request: httpx.Response(200, json=ME))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == ME


def test_the_url_comes_from_the_flag_then_the_environment_then_the_login_then_the_default():
    config.save(url="http://saved.test", token=SECRET)

    def host(args, env=None) -> str:
        result, requests = invoke(args, lambda r: httpx.Response(200, json=ME), env=env)
        assert result.exit_code == 0, result.output
        return requests[0].url.host

    assert host(["--url", "http://flag.test", "whoami"], {"TESSERA_URL": "http://env.test"}) == (
        "flag.test"
    )
    assert host(["whoami", "--url", "http://flag.test"], {"TESSERA_URL": "http://env.test"}) == (
        "flag.test"
    )
    assert host(["whoami"], {"TESSERA_URL": "http://env.test"}) == "env.test"
    assert host(["whoami"]) == "saved.test"
    config.delete()
    assert host(["whoami"]) == "127.0.0.1"


def test_the_saved_token_is_only_sent_to_the_url_it_was_checked_against():
    config.save(url="http://saved.test", token=SECRET)

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=ME)

    result, requests = invoke(["whoami"], respond, token=None)
    assert result.exit_code == 0
    assert requests[0].headers["Authorization"] == f"Bearer {SECRET}"

    def tessera(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"type": "/api/v1/problems/missing-token"})

    result, requests = invoke(["--url", "http://other.test", "whoami"], tessera, token=None)
    assert result.exit_code == 3
    # Only a probe went there, without a token: is it a Tessera server at all?
    assert [(r.url.host, r.headers.get("Authorization")) for r in requests] == [
        ("other.test", None)
    ]
    assert failure(result) == (
        "tessera: not logged in to http://other.test: run tessera --url http://other.test "
        "auth login, or set TESSERA_TOKEN (logged in to: http://saved.test)"
    )


def test_tessera_token_overrides_the_saved_token():
    config.save(url="http://127.0.0.1:8000", token="tsr_pat_saved")
    result, requests = invoke(["whoami"], lambda request: httpx.Response(200, json=ME))
    assert result.exit_code == 0
    assert requests[0].headers["Authorization"] == f"Bearer {SECRET}"


def test_a_login_the_server_refuses_keeps_the_previous_login():
    config.save(url="http://127.0.0.1:8000", token="tsr_pat_previous")
    respond = challenge(401, "invalid_token", "The access token was revoked.")
    result, _ = invoke(["login", "--token", SECRET], respond, token=None)
    assert result.exit_code == 3
    assert config.load().saved() == [
        config.Saved(url="http://127.0.0.1:8000", token="tsr_pat_previous")
    ]


def test_login_with_the_displayed_prefix_instead_of_the_token_explains_itself():
    result, requests = invoke(
        ["login", "--token", "tsr_pat_Ab12Cd…"], lambda r: httpx.Response(200, json=ME)
    )
    assert result.exit_code == 3
    assert requests == []
    assert "copy it again" in failure(result)
    assert not config.config_path().exists()


def test_login_refuses_both_token_options_as_a_usage_error():
    result, requests = invoke(
        ["login", "--token", SECRET, "--with-token"], lambda r: httpx.Response(200, json=ME)
    )
    assert result.exit_code == 2
    assert requests == []


def test_a_damaged_config_file_is_a_one_line_error_that_says_how_to_recover():
    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result, _ = invoke(["whoami"], lambda request: httpx.Response(200, json=ME), token=None)
    assert result.exit_code == 1
    assert failure(result).endswith("run tessera logout, then login")


def test_table_output_neutralises_control_characters_from_the_server():
    project = {
        "id": 1,
        "name": "Evil\x1b[2J\x1b]0;pwned\x07",
        "description": "line one\nline two",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
    }
    result, _ = invoke(
        ["projects", "list"],
        lambda request: httpx.Response(200, json={"items": [project], "count": 1}),
    )
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert result.stdout.splitlines()[1].split("  ")[-1] == "line one line two"


def test_help_lists_every_exit_code():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for code in ("0  success", "1  any other error", "2  usage error", "3  authentication"):
        assert f"  {code}" in result.stdout
    for code in ("4  permission denied", "5  not found", "6  rate limited"):
        assert f"  {code}" in result.stdout
