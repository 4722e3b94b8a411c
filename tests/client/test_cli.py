"""The real `tessera` command (the one `make install` puts in .venv/bin) against a live server.

Each test runs the installed console script in a subprocess, with its configuration directory
in tmp_path, and every run checks that no token secret ever reaches its output.
"""

import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from projects.models import Project, Task
from tests.factories import Role, make_org, make_project, make_token, make_user
from tokens.models import Token
from tokens.permissions import READ_ONLY
from tokens.services import token_revoke

pytestmark = pytest.mark.django_db(transaction=True)

TESSERA = Path(sys.executable).with_name("tessera")


@pytest.fixture
def world(live_server):
    owner = make_user(email="ada@example.com", name="Ada")
    org = make_org(name="Acme", members={owner: Role.OWNER})
    project = make_project(organization=org, name="Website")
    token, secret = make_token(owner=owner, organization=org, name="CI")
    _, read_only = make_token(owner=owner, organization=org, name="Reports", scopes=READ_ONLY)
    return SimpleNamespace(
        url=live_server.url,
        org=org,
        project=project,
        token=token,
        secret=secret,
        read_only=read_only,
    )


@pytest.fixture
def config_file(tmp_path) -> Path:
    return tmp_path / "config" / "tessera" / "config.json"


@pytest.fixture
def tessera(world, tmp_path):
    """Run the CLI as a user would, with TESSERA_URL pointing at the live server."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    base = inherited | {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path / "home"),
        "TESSERA_URL": world.url,
    }

    def run(*args: str, token: str | None = None, stdin: str | None = None):
        env = base | ({"TESSERA_TOKEN": token} if token else {})
        result = subprocess.run(
            [str(TESSERA), *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        for secret in (world.secret, world.read_only):
            assert secret not in result.stdout
            assert secret not in result.stderr
        assert "Traceback" not in result.stderr
        return result

    return run


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tessera: ")
    return lines[0]


def test_login_checks_the_token_saves_it_for_its_owner_alone_then_whoami_uses_it(
    world, tessera, config_file
):
    login = tessera("login", "--token", world.secret)
    assert login.returncode == 0, login.stderr
    assert "ada@example.com" in login.stdout
    assert world.token.prefix in login.stdout
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert json.loads(config_file.read_text()) == {
        "version": 2,
        "default": world.url,
        "servers": {world.url: {"token": world.secret}},
    }
    assert [p.name for p in config_file.parent.iterdir()] == ["config.json"]

    whoami = tessera("whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert "ada@example.com" in whoami.stdout
    assert "Acme" in whoami.stdout
    assert world.token.prefix in whoami.stdout

    me = json.loads(tessera("whoami", "-o", "json").stdout)
    assert me["user"]["email"] == "ada@example.com"
    assert me["token"]["prefix"] == world.token.prefix


def test_login_with_a_bad_token_exits_3_and_saves_nothing(tessera, config_file):
    result = tessera("login", "--token", "tsr_pat_this-is-not-a-real-token")
    assert result.returncode == 3
    assert "malformed" in one_line(result.stderr)
    assert not config_file.exists()


def test_login_with_token_reads_standard_input_and_logout_forgets_it(world, tessera, config_file):
    login = tessera("login", "--with-token", stdin=world.secret + "\n")
    assert login.returncode == 0, login.stderr
    assert json.loads(config_file.read_text())["servers"][world.url]["token"] == world.secret

    assert tessera("logout").returncode == 0
    assert not config_file.exists()
    result = tessera("whoami")
    assert result.returncode == 3
    # TESSERA_URL names the server, and it answers as Tessera does: the login is what is missing.
    assert one_line(result.stderr) == (
        f"tessera: not logged in to {world.url}: run tessera --url {world.url} auth login, "
        "or set TESSERA_TOKEN"
    )


def test_tasks_create_prints_the_created_task_as_json(world, tessera):
    result = tessera(
        "tasks",
        "create",
        "--project",
        str(world.project.pk),
        "--title",
        "x",
        "-o",
        "json",
        token=world.secret,
    )
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert (task["title"], task["project_id"], task["status"]) == ("x", world.project.pk, "todo")
    assert Task.objects.filter(pk=task["id"], project=world.project, title="x").exists()


def test_tessera_token_lists_every_project_across_pages_as_a_table_and_as_json(
    world, tessera, config_file
):
    Project.objects.bulk_create(
        Project(organization=world.org, name=f"Bulk {n:03}") for n in range(205)
    )
    expected = [f"Bulk {n:03}" for n in range(205)] + ["Website"]

    table = tessera("projects", "list", token=world.secret)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "DESCRIPTION"]
    column = header.index("NAME")
    assert [row[column:].strip() for row in rows] == expected
    assert all(row[column - 2 : column] == "  " for row in rows)

    listed = tessera("projects", "list", "-o", "json", token=world.secret)
    projects = json.loads(listed.stdout)
    assert [p["name"] for p in projects] == expected
    assert set(projects[0]) == {"id", "name", "description", "created_at", "updated_at"}
    assert not config_file.exists()


def test_a_revoked_token_exits_3_with_one_line_that_points_to_the_settings_page(
    world, tessera, config_file
):
    assert tessera("login", "--with-token", stdin=world.secret).returncode == 0
    token_revoke(token=world.token)
    result = tessera("whoami")
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "revoked" in line
    assert f"{world.url}/settings/developer/" in line
    assert line.endswith("and run tessera auth login")
    # From TESSERA_TOKEN, which wins over any login: the variable is what to change.
    result = tessera("whoami", token=world.secret)
    assert one_line(result.stderr).endswith("and set TESSERA_TOKEN to it")


def test_an_expired_token_exits_3(world, tessera):
    Token.objects.filter(pk=world.token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    result = tessera("projects", "list", token=world.secret)
    assert result.returncode == 3
    assert "token expired" in one_line(result.stderr)


def test_a_read_only_token_creating_a_task_exits_4_naming_tasks_write(world, tessera):
    result = tessera(
        "tasks",
        "create",
        "--project",
        str(world.project.pk),
        "--title",
        "x",
        token=world.read_only,
    )
    assert result.returncode == 4
    assert "permission denied: this token lacks tasks:write" in one_line(result.stderr)
    assert not Task.objects.exists()


def test_a_missing_project_exits_5_naming_it(world, tessera):
    result = tessera("tasks", "list", "--project", "424242", token=world.secret)
    assert result.returncode == 5
    assert one_line(result.stderr) == "tessera: not found: project 424242"


def test_a_usage_error_exits_2(world, tessera):
    result = tessera("tasks", "create", "--title", "x", token=world.secret)
    assert result.returncode == 2
    assert "Missing option '--project'" in result.stderr


def test_whoami_with_a_project_token_names_the_project_not_a_person(world, tessera):
    from tokens.services import project_token_create

    token, secret = project_token_create(
        project=world.project, by=world.org.memberships.get().user, name="Deploy",
        scopes=["tasks:read"], expires_at=None,
    )  # fmt: skip
    whoami = tessera("whoami", token=secret)
    assert whoami.returncode == 0, whoami.stderr
    assert "Website (project token)" in whoami.stdout and "None" not in whoami.stdout
    assert token.prefix[:12] in whoami.stdout and secret not in whoami.stdout


def test_token_rotate_swaps_the_saved_token_for_a_working_one_and_prints_no_secret(
    world, tessera, config_file
):
    assert tessera("auth", "login", "--token", world.secret).returncode == 0
    result = tessera("token", "rotate", "--overlap", "1h")
    assert result.returncode == 0, result.stderr
    new = json.loads(config_file.read_text())["servers"][world.url]["token"]
    assert new != world.secret and new not in result.stdout + result.stderr
    successor = Token.objects.get(replaced_by__isnull=True, name="CI", revoked_at__isnull=True)
    assert successor.prefix in result.stdout
    assert "stops working at" in result.stdout
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    whoami = tessera("whoami", "-o", "json")
    assert json.loads(whoami.stdout)["token"]["prefix"] == successor.prefix
    # The old one, still in use elsewhere (TESSERA_TOKEN) through its overlap: the expiry
    # warning points to its replacement, not to rotating it again, which the server refuses.
    old = tessera("whoami", token=world.secret)
    assert old.returncode == 0
    warning = one_line(old.stderr)
    assert warning.startswith(
        "tessera: warning: this token was rotated and stops working in 1 hour"
    )
    assert warning.endswith(f"set TESSERA_TOKEN to its replacement ({successor.prefix}…)")
    assert "token rotate" not in warning
    again = tessera("token", "rotate", "--show", token=world.secret)
    assert again.returncode == 1
    assert one_line(again.stderr).startswith("tessera: this token was already rotated and works")
    assert one_line(again.stderr).endswith(
        f"set TESSERA_TOKEN to its replacement ({successor.prefix}…)"
    )


def test_logout_revoke_after_a_rotation_with_overlap_says_the_old_token_still_works(
    world, tessera, config_file
):
    assert tessera("login", "--with-token", stdin=world.secret).returncode == 0
    assert tessera("token", "rotate", "--overlap", "24h").returncode == 0
    result = tessera("logout", "--revoke", "--yes")
    assert result.returncode == 0, result.stderr
    successor = Token.objects.get(replaced_by__isnull=True, name="CI")
    assert successor.revoked_at is not None
    world.token.refresh_from_db()
    assert world.token.is_active  # DELETE /tokens/self ends the calling token only
    assert "works nowhere" not in result.stdout
    page = f"{world.url}/settings/developer/tokens/{world.token.pk}/"
    assert (
        f"The token it replaced, {world.token.prefix}…, still works until "
        f"{world.token.expires_at:%Y-%m-%d %H:%M} UTC (the rotation's overlap): to end it now, "
        f"revoke it on its page, {page}"
    ) in result.stdout
    assert tessera("whoami", token=world.secret).returncode == 0


def test_logout_revoke_revokes_the_saved_token_on_the_server_then_forgets_it(
    world, tessera, config_file
):
    assert tessera("login", "--token", world.secret).returncode == 0
    refused = tessera("logout", "--revoke")  # no terminal to ask: needs --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert config_file.exists()
    result = tessera("auth", "logout", "--revoke", "--yes")
    assert result.returncode == 0, result.stderr
    assert not config_file.exists()
    world.token.refresh_from_db()
    assert world.token.revoked_at is not None
    assert tessera("whoami", token=world.secret).returncode == 3


def test_auth_status_lists_each_server_with_its_token(world, tessera):
    assert tessera("auth", "login", "--token", world.secret).returncode == 0
    status = tessera("auth", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0] == f"{world.url} (default)"
    assert f"ada@example.com ({world.org.slug}, owner) with token {world.token.prefix}" in (
        status.stdout
    )
