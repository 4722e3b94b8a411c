"""The gh-like side of the CLI, in-process against a stand-in server: one saved token per
server, `auth status`, `logout --revoke`, `token rotate`, confirmations, the expiry warning,
`tessera api` and completion."""

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner
from tessera_client import cli, config
from tessera_client.cli import State, main

from tokens import codec

from .test_cli_messages import ME, SECRET, failure, invoke, no_sleep

OTHER = codec.generate("pat")
NEW = codec.generate("pat")
A, B = "http://a.test", "http://b.test"


def me(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=ME)


def saved_file() -> dict:
    return json.loads(config.config_path().read_text())


# One saved token per server


def test_a_second_login_to_another_server_keeps_the_first():
    assert (
        invoke(["--url", A, "auth", "login", "--token", SECRET], me, token=None)[0].exit_code == 0
    )
    assert invoke(["--url", B, "login", "--token", OTHER], me, token=None)[0].exit_code == 0
    assert saved_file() == {
        "version": 2,
        "default": B,
        "servers": {A: {"token": SECRET}, B: {"token": OTHER}},
    }
    assert stat.S_IMODE(config.config_path().stat().st_mode) == 0o600

    def sent(args, env=None):
        result, requests = invoke(args, me, token=None, env=env)
        assert result.exit_code == 0, result.output
        return str(requests[0].url), requests[0].headers["Authorization"]

    assert sent(["whoami"]) == (f"{B}/api/v1/me", f"Bearer {OTHER}")  # the last login
    assert sent(["--url", A, "whoami"]) == (f"{A}/api/v1/me", f"Bearer {SECRET}")
    assert sent(["whoami"], env={"TESSERA_URL": A}) == (f"{A}/api/v1/me", f"Bearer {SECRET}")


def test_logout_forgets_one_server_and_the_default_moves_to_the_one_left():
    config.save(url=A, token=SECRET)
    config.save(url=B, token=OTHER)
    result, requests = invoke(["auth", "logout"], me, token=None)
    assert result.exit_code == 0 and requests == []
    assert f"Logged out of {B}" in result.stdout
    assert saved_file()["servers"] == {A: {"token": SECRET}}
    assert saved_file()["default"] == A
    assert invoke(["logout", "--url", A], me, token=None)[0].exit_code == 0
    assert not config.config_path().exists()


def test_a_single_token_config_file_is_migrated_and_stays_private():
    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"url": A + "/", "token": SECRET}))
    path.chmod(0o600)
    result, requests = invoke(["whoami"], me, token=None)
    assert result.exit_code == 0, result.output
    assert requests[0].url.host == "a.test"
    assert saved_file() == {"version": 2, "default": A, "servers": {A: {"token": SECRET}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_logout_removes_a_config_file_it_cannot_read():
    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert "run tessera logout, then login" in failure(invoke(["whoami"], me, token=None)[0])
    result, _ = invoke(["logout"], me, token=None)
    assert result.exit_code == 0, result.output
    assert not path.exists()


def test_auth_status_checks_every_saved_server_and_says_which_failed():
    config.save(url=A, token=SECRET)
    config.save(url=B, token=OTHER)

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.test":
            return httpx.Response(200, json=ME)
        body = {"type": "/api/v1/problems/token-revoked", "title": "x", "status": 401,
                "detail": "The access token was revoked."}  # fmt: skip
        return httpx.Response(401, json=body)

    result, requests = invoke(["auth", "status"], respond, token=None)
    assert result.exit_code == 3  # a token refused: authentication, as the README's table says
    assert [r.url.host for r in requests] == ["a.test", "b.test"]
    lines = result.stdout.splitlines()
    assert lines[0] == A
    assert lines[1] == (
        "  ✓ Logged in as ada@example.com (acme, owner) with token tsr_pat_"
        + SECRET[8:14]
        + "… (saved)"
    )
    assert lines[3] == f"{B} (default)"
    assert lines[4].startswith(f"  ✗ token {OTHER[:14]}… (saved): token revoked")
    assert SECRET not in result.output and OTHER not in result.output

    result, _ = invoke(["auth", "status", "-o", "json"], respond, token=None)
    reports = json.loads(result.stdout)
    assert [(r["url"], r["ok"], r["default"]) for r in reports] == [
        (A, True, False),
        (B, False, True),
    ]


def test_auth_status_without_any_token_exits_3():
    result, requests = invoke(["auth", "status"], me, token=None)
    assert result.exit_code == 3 and requests == []
    assert "not logged in to any Tessera server" in failure(result)


# Confirmations


def test_a_delete_without_yes_is_refused_when_nobody_can_answer():
    result, requests = invoke(["tasks", "delete", "7"], lambda r: httpx.Response(204))
    assert result.exit_code == 2 and requests == []
    assert "needs --yes when standard input is not a terminal" in result.stderr
    result, requests = invoke(["tasks", "delete", "7", "--yes"], lambda r: httpx.Response(204))
    assert result.exit_code == 0
    assert [(r.method, r.url.path) for r in requests] == [("DELETE", "/api/v1/tasks/7")]


@pytest.mark.parametrize(("answer", "code", "sent"), [("y\n", 0, 1), ("n\n", 1, 0)])
def test_at_a_terminal_a_delete_asks_first(monkeypatch, answer, code, sent):
    monkeypatch.setattr(cli, "interactive", lambda: True)
    requests: list[httpx.Request] = []

    def handler(request):
        requests.append(request)
        return httpx.Response(204)

    state = State(client_options={"transport": httpx.MockTransport(handler), "sleep": no_sleep})
    result = CliRunner().invoke(
        main, ["projects", "delete", "3"], obj=state, input=answer, env={"TESSERA_TOKEN": SECRET}
    )
    assert result.exit_code == code
    assert "Delete project 3 and all its tasks? [y/N]" in result.stderr
    assert len(requests) == sent


# logout --revoke


def test_logout_revoke_revokes_on_the_server_then_forgets():
    config.save(url=A, token=SECRET)
    result, requests = invoke(
        ["logout", "--revoke", "--yes"], lambda r: httpx.Response(204), token=None
    )
    assert result.exit_code == 0, result.output
    assert [(r.method, str(r.url)) for r in requests] == [("DELETE", f"{A}/api/v1/tokens/self")]
    assert requests[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert "Revoked token" in result.stdout and not config.config_path().exists()


def test_logout_revoke_needs_yes_without_a_terminal_and_keeps_the_token():
    config.save(url=A, token=SECRET)
    result, requests = invoke(["auth", "logout", "--revoke"], me, token=None)
    assert result.exit_code == 2 and requests == []
    assert config.load().token_for(A) == SECRET


def test_logout_revoke_keeps_the_token_when_the_server_cannot_be_reached():
    config.save(url=A, token=SECRET)
    result, _ = invoke(
        ["logout", "--revoke", "--yes"], lambda r: httpx.ConnectError("refused"), token=None
    )
    assert result.exit_code == 1
    assert config.load().token_for(A) == SECRET


def test_logout_revoke_forgets_a_token_the_server_already_refuses():
    config.save(url=A, token=SECRET)
    refused = httpx.Response(
        401,
        json={"type": "/api/v1/problems/token-revoked", "detail": "The access token was revoked."},
    )
    result, _ = invoke(["logout", "--revoke", "--yes"], lambda r: refused, token=None)
    assert result.exit_code == 0
    assert not config.config_path().exists()


# token rotate


def rotated(overlap_ends: datetime | None = None):
    body = {
        "secret": NEW,
        "token": {"id": 2, "name": "CI", "kind": "pat", "prefix": NEW[:14],
                  "scopes": ["tasks:read"], "all_projects": True,
                  "created_at": "2026-01-02T03:04:05Z", "expires_at": "2027-01-02T03:04:05Z"},
        "replaces": {"id": 1, "prefix": SECRET[:14],
                     "expires_at": (overlap_ends or datetime.now(UTC)).isoformat()},
    }  # fmt: skip
    return lambda request: httpx.Response(201, json=body)


def test_token_rotate_swaps_the_saved_token_and_never_prints_the_secret():
    config.save(url=A, token=SECRET)
    later = datetime.now(UTC) + timedelta(hours=24)
    result, requests = invoke(["token", "rotate", "--overlap", "24h"], rotated(later), token=None)
    assert result.exit_code == 0, result.output
    (request,) = requests
    assert (request.method, request.url.path) == ("POST", "/api/v1/tokens/self/rotate")
    assert json.loads(request.content) == {"overlap": "24h"}
    assert "Idempotency-Key" not in request.headers
    assert config.load().token_for(A) == NEW
    assert NEW not in result.output
    assert f"the new token is {NEW[:14]}…, saved for {A}" in result.stdout
    assert f"The old token {SECRET[:14]}… stops working at {later:%Y-%m-%d %H:%M} UTC." in (
        result.stdout
    )


def test_token_rotate_without_overlap_says_the_old_one_stopped():
    config.save(url=A, token=SECRET)
    result, _ = invoke(["token", "rotate"], rotated(), token=None)
    assert "stopped working now" in result.stdout


def test_token_rotate_show_prints_only_the_secret_on_standard_output():
    config.save(url=A, token=SECRET)
    result, _ = invoke(["token", "rotate", "--show"], rotated(), token=None)
    assert result.stdout == NEW + "\n"
    assert "Rotated" in result.stderr
    result, _ = invoke(["token", "rotate", "-o", "json"], rotated(), token=None)
    assert "secret" not in json.loads(result.stdout)
    result, _ = invoke(["token", "rotate", "--show", "-o", "json"], rotated(), token=None)
    assert json.loads(result.stdout)["secret"] == NEW


def test_token_rotate_with_tessera_token_needs_show():
    result, requests = invoke(["token", "rotate"], rotated())
    assert result.exit_code == 2 and requests == []
    assert "add --show" in result.stderr
    result, _ = invoke(["token", "rotate", "--show"], rotated())
    assert result.exit_code == 0 and result.stdout == NEW + "\n"
    assert not config.config_path().exists()


ALREADY_ROTATED = {
    "type": "/api/v1/problems/token-already-rotated",
    "title": "Token already rotated",
    "status": 409,
    "detail": "“CI” was already rotated: rotate its replacement instead.",
}


def test_rotating_a_token_already_rotated_points_to_its_replacement_not_to_rotating():
    result, requests = invoke(
        ["token", "rotate", "--show"], lambda r: httpx.Response(409, json=ALREADY_ROTATED)
    )
    assert result.exit_code == 1 and len(requests) == 1
    assert failure(result) == (
        "tessera: this token was already rotated: set TESSERA_TOKEN to its replacement, "
        "linked from http://127.0.0.1:8000/settings/developer/"
    )


def test_a_token_rotated_elsewhere_is_remembered_so_the_warning_stops_offering_to_rotate_it():
    # Rotated in the browser with an overlap, still saved here: the server only says when it
    # ends (Tessera-Token-Expires), so the first rotate finds out, and the CLI remembers.
    config.save(url=A, token=SECRET)
    ends = datetime.now(UTC) + timedelta(hours=1)
    header = {"Tessera-Token-Expires": ends.strftime("%Y-%m-%dT%H:%M:%SZ")}
    refused = httpx.Response(409, json=ALREADY_ROTATED, headers=header)
    result, _ = invoke(["token", "rotate"], lambda r: refused, token=None)
    assert result.exit_code == 1
    assert failure(result) == (
        f"tessera: this token was already rotated and works until {ends:%Y-%m-%d %H:%M} UTC: "
        f"log in with its replacement, linked from {A}/settings/developer/: tessera auth login"
    )
    assert config.load().token_for(A) == SECRET  # nothing to swap it for
    result, _ = invoke(
        ["whoami", "-o", "json"], lambda r: httpx.Response(200, json=ME, headers=header), token=None
    )
    assert result.exit_code == 0
    (line,) = result.stderr.splitlines()
    assert line.startswith("tessera: warning: this token was rotated and stops working in 1 hour")
    assert "token rotate" not in line


# The expiry warning


@pytest.mark.parametrize(("days", "warned"), [(3, True), (6.9, True), (8, False)])
def test_a_token_expiring_within_7_days_gets_a_warning_on_standard_error(days, warned):
    ends = datetime.now(UTC) + timedelta(days=days)
    header = {"Tessera-Token-Expires": ends.strftime("%Y-%m-%dT%H:%M:%SZ")}
    result, _ = invoke(
        ["whoami", "-o", "json"], lambda r: httpx.Response(200, json=ME, headers=header)
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == ME
    if warned:
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"tessera: warning: this token expires in {round(days)} days")
        assert line.endswith("run tessera token rotate for a new one with the same access")
    else:
        assert result.stderr == ""


# tessera api


def test_api_gets_any_path_and_prints_its_json():
    result, requests = invoke(
        ["api", "/api/v1/projects/1"], lambda r: httpx.Response(200, json={"id": 1})
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"id": 1}
    assert str(requests[0].url) == "http://127.0.0.1:8000/api/v1/projects/1"


def test_api_fields_go_in_the_query_of_a_get_and_the_body_otherwise():
    ok = lambda r: httpx.Response(200, json={})  # noqa: E731
    _, requests = invoke(["api", "projects/1/tasks", "-X", "get", "-f", "status=done"], ok)
    assert requests[0].method == "GET" and requests[0].url.params["status"] == "done"
    _, requests = invoke(
        ["api", "projects/1/tasks", "-f", "title=Hi", "-F", "n=3", "-F", "x=true"], ok
    )
    assert requests[0].method == "POST"
    assert json.loads(requests[0].content) == {"title": "Hi", "n": 3, "x": True}
    _, requests = invoke(["api", "-X", "PATCH", "tasks/7", "-f", "status=done"], ok)
    assert (requests[0].method, json.loads(requests[0].content)) == ("PATCH", {"status": "done"})


def test_api_paginate_follows_link_next_and_merges_the_items():
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        links = (
            '</api/v1/projects?page=2>; rel="next"'
            if page == 1
            else '</api/v1/projects?page=1>; rel="first"'
        )
        return httpx.Response(
            200, json={"items": [{"id": page}], "count": 2}, headers={"Link": links}
        )

    result, requests = invoke(["api", "projects", "--paginate"], respond)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"items": [{"id": 1}, {"id": 2}], "count": 2}
    assert len(requests) == 2


def test_api_errors_keep_their_exit_codes():
    body = {
        "type": "/api/v1/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Nothing here.",
    }
    result, _ = invoke(["api", "tasks/9"], lambda r: httpx.Response(404, json=body))
    assert result.exit_code == 5
    assert failure(result) == "tessera: not found: nothing here"


# Completion


def test_completion_bash_completes_our_commands_in_a_real_bash(tmp_path):
    script = CliRunner().invoke(main, ["completion", "bash"]).stdout
    assert "_TESSERA_COMPLETE=bash_complete" in script
    probe = tmp_path / "probe.sh"
    probe.write_text(
        script
        + "\nCOMP_WORDS=(tessera au); COMP_CWORD=1"
        + '; _tessera_completion tessera; echo "${COMPREPLY[@]}"\n'
        + 'COMPREPLY=(); COMP_WORDS=(tessera auth ""); COMP_CWORD=2'
        + '; _tessera_completion tessera; echo "${COMPREPLY[@]}"\n'
    )
    # The script asks the installed `tessera` (beside this Python) for the words.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    out = subprocess.run(
        ["bash", str(probe)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PATH": path},
    ).stdout
    first, second = out.splitlines()
    assert first.split() == ["auth"]
    assert sorted(second.split()) == ["login", "logout", "status"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("zsh", "#compdef tessera"), ("fish", "complete --no-files --command tessera")],
)
def test_completion_prints_zsh_and_fish_scripts(shell, marker):
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0
    assert marker in result.stdout


def test_help_lists_auth_api_completion_and_token():
    result = CliRunner().invoke(main, ["--help"])
    for command in ("auth", "api", "completion", "token", "login", "logout"):
        assert f"  {command} " in result.stdout


# What the CLI remembers of a rotation with an overlap


def rotate_then_revoke(request: httpx.Request) -> httpx.Response:
    """A server where the token rotates (with a 24-hour overlap) and then revokes itself."""
    if request.method == "DELETE":
        return httpx.Response(204)
    ends = datetime.now(UTC) + timedelta(hours=24)
    page = {"Location": f"{A}/settings/developer/tokens/2/"}
    return httpx.Response(201, json=rotated(ends)(request).json(), headers=page)


def test_logout_revoke_after_a_rotation_says_the_replaced_token_works_until_its_overlap_ends():
    config.save(url=A, token=SECRET)
    result, _ = invoke(["token", "rotate", "--overlap", "24h"], rotate_then_revoke, token=None)
    assert result.exit_code == 0, result.output
    assert SECRET not in config.config_path().read_text()  # only its digest is kept
    result, requests = invoke(["logout", "--revoke", "--yes"], rotate_then_revoke, token=None)
    assert result.exit_code == 0, result.output
    assert requests[0].headers["Authorization"] == f"Bearer {NEW}"  # it can only end itself
    lines = result.stdout.splitlines()
    assert lines[0] == f"Revoked token {NEW[:14]}… on {A}."
    assert lines[1].startswith(f"The token it replaced, {SECRET[:14]}…, still works until ")
    assert lines[1].endswith(
        "(the rotation's overlap): to end it now, revoke it on its page, "
        f"{A}/settings/developer/tokens/1/"
    )
    assert "works nowhere" not in result.stdout


def test_a_token_rotated_from_tessera_token_is_not_offered_a_rotation_by_the_warning():
    later = datetime.now(UTC) + timedelta(hours=1)
    result, _ = invoke(["token", "rotate", "--overlap", "1h", "--show"], rotated(later))
    assert result.exit_code == 0, result.output
    header = {"Tessera-Token-Expires": later.strftime("%Y-%m-%dT%H:%M:%SZ")}
    result, _ = invoke(
        ["whoami", "-o", "json"], lambda r: httpx.Response(200, json=ME, headers=header)
    )
    (line,) = result.stderr.splitlines()
    assert line.startswith("tessera: warning: this token was rotated and stops working in 1 hour")
    assert line.endswith(f"set TESSERA_TOKEN to its replacement ({NEW[:14]}…)")


# auth status and logout, said plainly


def test_auth_status_shows_tessera_token_as_the_one_in_use_and_the_saved_one_apart():
    config.save(url="http://127.0.0.1:8000", token=OTHER)
    result, requests = invoke(["auth", "status"], me)
    assert result.exit_code == 0, result.output
    assert [r.headers["Authorization"] for r in requests] == [f"Bearer {SECRET}", f"Bearer {OTHER}"]
    lines = result.stdout.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == [
        "http://127.0.0.1:8000 (default)"
    ]
    assert lines[1].endswith(f"with token {SECRET[:14]}… (TESSERA_TOKEN, in use)")
    assert lines[3].endswith(f"with token {OTHER[:14]}… (saved, unused while TESSERA_TOKEN is set)")
    reports = json.loads(invoke(["auth", "status", "-o", "json"], me)[0].stdout)
    assert [(r["source"], r["in_use"]) for r in reports] == [
        ("TESSERA_TOKEN", True),
        ("saved", False),
    ]


def test_auth_status_exits_3_when_tessera_token_is_refused():
    config.save(url="http://127.0.0.1:8000", token=OTHER)

    def respond(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == f"Bearer {SECRET}":
            return httpx.Response(401, json={"type": "/api/v1/problems/token-revoked"})
        return httpx.Response(200, json=ME)

    result, _ = invoke(["auth", "status"], respond)
    assert result.exit_code == 3
    assert "✗ token" in result.stdout and "(TESSERA_TOKEN, in use): token revoked" in result.stdout


def test_auth_status_exits_1_when_a_server_cannot_be_reached():
    config.save(url=A, token=SECRET)
    result, _ = invoke(["auth", "status"], lambda r: httpx.ConnectError("refused"), token=None)
    assert result.exit_code == 1
    assert "is the server running there?" in result.stdout


def test_auth_status_for_a_server_without_a_login_names_the_ones_logged_in_to():
    config.save(url=A, token=SECRET)
    config.save(url=B, token=OTHER)

    def tessera(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"type": "/api/v1/problems/missing-token"})

    result, requests = invoke(["--url", "http://c.test", "auth", "status"], tessera, token=None)
    assert result.exit_code == 3
    assert [r.headers.get("Authorization") for r in requests] == [None]
    assert failure(result) == (
        "tessera: not logged in to http://c.test: run tessera --url http://c.test auth login, "
        f"or set TESSERA_TOKEN (logged in to: {A}, {B})"
    )


def test_logout_with_nothing_saved_says_so_instead_of_naming_a_default_server():
    config.save(url=A, token=SECRET)
    assert invoke(["logout"], me, token=None)[0].exit_code == 0
    result, requests = invoke(["logout"], me, token=None)
    assert result.exit_code == 0 and requests == []
    assert result.stdout == "Not logged in to any Tessera server: there is nothing to log out of.\n"
    assert "127.0.0.1" not in result.output
    result, _ = invoke(["logout", "--revoke", "--yes"], me, token=None)
    assert result.exit_code == 3
    assert failure(result) == (
        "tessera: not logged in to any Tessera server: there is no saved token to revoke"
    )


# Login hints keep the token out of shell history


def test_hints_suggest_logging_in_without_the_token_on_the_command_line():
    result, _ = invoke(["whoami"], me, token=None)
    assert failure(result) == "tessera: not logged in: run tessera auth login, or set TESSERA_TOKEN"
    result, requests = invoke(["auth", "login"], me, token=None)  # no terminal, no token
    assert result.exit_code == 2 and requests == []
    assert "--with-token (tessera auth login --with-token < token.txt)" in result.stderr
    assert "--token" not in result.stderr.replace("--with-token", "")
    assert "--with-token" in CliRunner().invoke(main, ["--help"]).stdout


def test_login_with_token_reads_the_token_from_standard_input():
    result, requests = invoke(
        ["auth", "login", "--with-token"], me, token=None, stdin=SECRET + "\n"
    )
    assert result.exit_code == 0, result.output
    assert requests[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert config.load().token_for("http://127.0.0.1:8000") == SECRET


# tessera api


def test_api_paginate_with_fields_is_a_get_with_a_query_as_gh_api_does():
    page = lambda r: httpx.Response(200, json={"items": [], "count": 0})  # noqa: E731
    result, requests = invoke(["api", "projects/1/tasks", "--paginate", "-F", "page_size=50",
                               "-f", "status=done"], page)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert requests[0].method == "GET"
    assert dict(requests[0].url.params) == {"page_size": "50", "status": "done"}
    result, requests = invoke(["api", "-X", "POST", "projects", "--paginate", "-F", "a=1"], page)
    assert result.exit_code == 2 and requests == []
    assert "drop -X POST (fields then go in the query string)" in result.stderr


def test_api_keeps_the_query_of_its_path_and_paginates_from_that_page():
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        links = {"Link": f'</api/v1/projects?page={page + 1}>; rel="next"'} if page < 3 else {}
        return httpx.Response(200, json={"items": [{"id": page}], "count": 3}, headers=links)

    result, requests = invoke(["api", "projects?page=2", "--paginate"], respond)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == [{"id": 2}, {"id": 3}]
    assert [r.url.params["page"] for r in requests] == ["2", "3"]
    _, requests = invoke(["api", "projects?page=2", "-X", "GET", "-f", "page_size=5"], respond)
    assert dict(requests[0].url.params) == {"page": "2", "page_size": "5"}


def test_api_revoking_the_token_in_use_gives_no_warning_about_its_expiry():
    soon = datetime.now(UTC) + timedelta(days=2)
    header = {"Tessera-Token-Expires": soon.strftime("%Y-%m-%dT%H:%M:%SZ")}
    result, _ = invoke(
        ["api", "-X", "DELETE", "tokens/self"], lambda r: httpx.Response(204, headers=header)
    )
    assert result.exit_code == 0
    assert result.stderr == ""
    result, _ = invoke(["api", "me"], lambda r: httpx.Response(200, json=ME, headers=header))
    assert "warning: this token expires in 2 days" in result.stderr


# Help


def help_pages(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from help_pages(sub, (*path, name))


def test_no_help_text_is_cut_off_in_an_80_column_terminal():
    for path, _ in help_pages(main):
        result = CliRunner().invoke(main, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0
        listing = False
        for line in result.stdout.splitlines():
            assert len(line) <= 80, (path, line)
            listing = line == "Commands:" or (listing and line.startswith("  "))
            # click ends a command's summary with "..." when it does not fit in the list.
            assert not (listing and line.endswith("...")), (path, line)
    epilog = CliRunner().invoke(main, ["--help"], env={"COLUMNS": "80"}).stdout
    assert "4  permission denied: the token lacks the scope, or the role, for this\n" in epilog
