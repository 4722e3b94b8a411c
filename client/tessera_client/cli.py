"""The `tessera` command line: log in once, then read and change projects and tasks.

Every failure the API can report ends in one line on standard error that says what to do, and
an exit code a script can branch on (see EXIT_CODES); never a traceback.
"""

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

import click

from . import config, errors
from .client import DEFAULT_URL, Client, __version__, normalize_url
from .models import TASK_STATUSES, Me, Project, Task
from .output import emit_json, fields, table

TOKEN_ENV = "TESSERA_TOKEN"  # noqa: S105 (the name of a variable, not a secret)
URL_ENV = "TESSERA_URL"
# What `tessera login` shows of a token: the kind prefix and a few characters, never the secret.
SHOWN_PREFIX = 14


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    AUTHENTICATION = 3
    PERMISSION = 4
    NOT_FOUND = 5
    RATE_LIMITED = 6


# "\b" keeps click from re-wrapping the table.
EXIT_CODES = """\b
Exit codes:
  0  success
  1  any other error: the server failed or cannot be reached, the address is
     not a Tessera server, or the server refused the input
  2  usage error: a missing or invalid option or argument
  3  authentication: not logged in, or the token is malformed, unknown,
     expired, rotated or revoked
  4  permission denied: the token lacks the scope, or the role, for this
  5  not found (or outside what the token can see)
  6  rate limited: wait, then retry
"""


class Failure(click.ClickException):
    """Ends the command with one `tessera: ...` line on standard error and a chosen exit code."""

    def __init__(self, message: str, exit_code: Exit = Exit.ERROR):
        super().__init__(message)
        self.exit_code = int(exit_code)  # type: ignore[misc]  # click's, set per failure

    def show(self, file: Any = None) -> None:
        click.echo(f"tessera: {self.format_message()}", err=True)


@dataclass
class State:
    """What the global options decided, shared by every command through click's context."""

    url_option: str | None = None
    output: str = "table"
    # More Client arguments; tests pass a stand-in transport and sleep here.
    client_options: dict[str, Any] = field(default_factory=dict)
    # `tessera token rotate` says when the old token ends; no warning about it as well.
    warn_expiry: bool = True
    _saved: config.Config | None = field(default=None, init=False, repr=False)
    _warned: bool = field(default=False, init=False, repr=False)

    def saved(self) -> config.Config:
        if self._saved is None:
            try:
                self._saved = config.load()
            except config.ConfigError as exc:
                raise Failure(str(exc)) from None
        return self._saved

    def forget_saved(self) -> None:
        """The file changed: read it again when next asked."""
        self._saved = None

    def url(self) -> str:
        """--url, else TESSERA_URL (click reads both into url_option), else the default saved
        server (the last one logged in to), else DEFAULT_URL."""
        raw = self.url_option or self.saved().default or DEFAULT_URL
        try:
            return normalize_url(raw)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--url / {URL_ENV}") from None

    def token(self, url: str) -> str | None:
        """TESSERA_TOKEN, else the token saved for this URL."""
        # A saved token only goes to the server that accepted it at login, never elsewhere.
        if env := env_token():
            return env
        return self.saved().token_for(url)

    @contextmanager
    def client(self, *, token: str | None = None, missing: str | None = None) -> Iterator[Client]:
        """A Client for this URL and token, turning API errors into one-line failures."""
        # `missing` is what a 404 means to the caller ("project 42"), for the message.
        url = self.url()
        from_env = token is None and env_token() is not None
        token = token or self.token(url)
        if not token:
            raise self.not_logged_in(url)
        try:
            with Client(url, token, **self.client_options) as client:
                try:
                    yield client
                finally:
                    self._warn_if_expiring(client, token, from_env=from_env)
        except errors.TesseraError as exc:
            message, code = describe(exc, url=url, missing=missing, from_env=from_env)
            raise Failure(message, code) from None

    def _warn_if_expiring(self, client: Client, token: str, *, from_env: bool) -> None:
        """One line on standard error when the token in use ends within EXPIRY_WARNING."""
        expires = client.token_expires_at
        if not self.warn_expiry or self._warned or expires is None:
            return
        left = expires - datetime.now(UTC)
        if not timedelta(0) < left <= EXPIRY_WARNING:
            return
        self._warned = True
        when = f"{_in(left)} ({_when(expires)})"
        rotation = self.saved_quietly().rotation_of(token)
        if rotation is None:
            advice = "run tessera token rotate for a new one with the same access"
            click.echo(f"tessera: warning: this token expires {when}: {advice}", err=True)
            return
        # Rotated already: it works through its overlap only, and rotating it again is refused.
        click.echo(
            f"tessera: warning: this token was rotated and stops working {when}: "
            + switch_to_replacement(rotation, from_env=from_env, url=client.base_url),
            err=True,
        )

    def saved_quietly(self) -> config.Config:
        """The saved configuration, or an empty one when it cannot be read (for a hint only)."""
        try:
            return self.saved()
        except Failure:
            return config.Config()

    def not_logged_in(self, url: str) -> Failure:
        """No token for `url`. When the address itself is in doubt (given with --url or
        TESSERA_URL, or other servers are saved), ask it first, without a token, whether it is
        a Tessera server at all: blaming the login for a wrong or dead address misleads."""
        saved = self.saved()
        if not self.url_option and not saved.tokens:
            return Failure(NOT_LOGGED_IN, Exit.AUTHENTICATION)
        if problem := self.diagnose(url):
            return problem
        message = f"not logged in to {url}: run tessera --url {url} auth login, or set {TOKEN_ENV}"
        if others := [other for other in saved.tokens if other != url]:
            message += f" (logged in to: {', '.join(others)})"
        return Failure(message, Exit.AUTHENTICATION)

    def diagnose(self, url: str) -> Failure | None:
        """A failure when `url` cannot be reached or is not a Tessera server; None when it
        answers as Tessera does to a request without a token (401)."""
        try:
            with Client(url, "", **self.client_options) as client:
                client.me()
        except (errors.ConnectionFailed, errors.NotTesseraServer) as exc:
            return Failure(describe(exc, url=url)[0], Exit.ERROR)
        except errors.TesseraError:
            return None  # Tessera's 401, or a Tessera that failed: the login is what is missing
        return Failure(
            f"{url} is not a Tessera server: GET /api/v1/me answered without asking for a "
            f"token: check --url or {URL_ENV}",
            Exit.ERROR,
        )


def env_token() -> str | None:
    return os.environ.get(TOKEN_ENV, "").strip() or None


def switch_to_replacement(rotation: config.Rotation | None, *, from_env: bool, url: str) -> str:
    """What to do about a token that was rotated: use its replacement, named when this CLI
    made it, else found from the old token's page (or the list of tokens)."""
    if rotation and rotation.replacement:
        new = f" ({rotation.replacement[:SHOWN_PREFIX]}…)"
    else:
        new = f", linked from {(rotation and rotation.page) or url + '/settings/developer/'}"
    if from_env:
        return f"set {TOKEN_ENV} to its replacement{new}"
    return f"log in with its replacement{new}: tessera auth login"


def _in(left: timedelta) -> str:
    """`in 3 days`, `in 5 hours`, `in 12 minutes`, to the nearest (59.9 minutes is an hour)."""
    minutes = round(left.total_seconds() / 60)
    for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
        if minutes >= size:
            count = round(minutes / size)
            return f"in {count} {unit}{'s' if count > 1 else ''}"
    return "in less than a minute"


# The exit code for each kind of failure; anything else is Exit.ERROR.
EXIT_FOR: tuple[tuple[type[errors.TesseraError], Exit], ...] = (
    (errors.AuthenticationError, Exit.AUTHENTICATION),
    (errors.PermissionDenied, Exit.PERMISSION),
    (errors.NotFound, Exit.NOT_FOUND),
    (errors.RateLimited, Exit.RATE_LIMITED),
)
# `auth login` asks for the token at a terminal, or reads it from a pipe with --with-token; a
# token given with --token stays in the shell's history and shows in the process list.
NOT_LOGGED_IN = f"not logged in: run tessera auth login, or set {TOKEN_ENV}"
# Warn on standard error when the token in use expires sooner than this.
EXPIRY_WARNING = timedelta(days=7)


def describe(
    exc: errors.TesseraError, *, url: str, missing: str | None = None, from_env: bool = False
) -> tuple[str, Exit]:
    """The one line that says what happened and what to do about it, and the exit code.
    `from_env`: the token came from TESSERA_TOKEN, which logging in would not change."""
    code = next((code for cls, code in EXIT_FOR if isinstance(exc, cls)), Exit.ERROR)
    return _message(exc, url=url, missing=missing, from_env=from_env), code


def _message(exc: errors.TesseraError, *, url: str, missing: str | None, from_env: bool) -> str:
    use = f"set {TOKEN_ENV} to it" if from_env else "run tessera auth login"
    renew = f"create a new one at {url}/settings/developer/ and {use}"
    reason = _clause(exc.detail or exc.message)
    if isinstance(exc, errors.AuthenticationError):
        return _refused(exc, renew=renew, reason=reason, from_env=from_env)
    request_id = f" (request id {exc.request_id})" if exc.request_id else ""
    match exc:
        case errors.InsufficientScope(scope=str(scope)) if "role" in reason:
            return f"permission denied: this token lacks {scope} ({reason})"
        case errors.InsufficientScope(scope=str(scope)):
            return (
                f"permission denied: this token lacks {scope}: "
                f"create one with it at {url}/settings/developer/"
            )
        case errors.PermissionDenied():
            return f"permission denied: {reason}"
        case errors.NotFound():
            return f"not found: {missing or reason}"
        case errors.RateLimited(retry_after=int(seconds)):
            return f"rate limited: retry in {seconds} s"
        case errors.RateLimited():
            return "rate limited: wait a little, then retry"
        case errors.ValidationFailed():
            return f"invalid input: {_summarize(exc.errors) or reason}"
        case errors.ConnectionFailed() | errors.NotTesseraServer():
            return f"{exc.message}: {_check_address(exc)}"
        case errors.Conflict():
            return f"conflict: {reason}"
        case errors.ServerError():
            return f"server error (HTTP {exc.status}): {reason}; try again later{request_id}"
    status = f" (HTTP {exc.status})" if exc.status else ""
    return f"request failed{status}: {reason}{request_id}"


def _check_address(exc: errors.TesseraError) -> str:
    """The thing to do about an address that is not Tessera, or where nothing answers."""
    check = f"check --url or {URL_ENV}"
    if isinstance(exc, errors.ConnectionFailed):
        return f"is the server running there? {check}"
    return check


def _refused(exc: errors.AuthenticationError, *, renew: str, reason: str, from_env: bool) -> str:
    """The token itself was not accepted: why, and how to get a working one."""
    match exc:
        case errors.TokenMissing():
            return NOT_LOGGED_IN
        case errors.TokenRotated() if from_env:
            # TESSERA_TOKEN wins over a saved token, so logging in would change nothing.
            return f"token rotated: set {TOKEN_ENV} to its replacement"
        case errors.TokenRotated():
            return "token rotated: log in with its replacement (tessera auth login)"
        case errors.TokenRevoked():
            return f"token revoked: {renew}"
        case errors.TokenExpired():
            return f"token expired: {renew}"
        case errors.TokenInvalid():
            return f"token not accepted ({reason}): check it was copied whole, or {renew}"
    return f"authentication failed: {reason}"


def _clause(text: str) -> str:
    """A server sentence fit to sit inside ours: no final full stop, no leading capital."""
    text = " ".join(text.split()).rstrip(".")
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _summarize(errors: list) -> str:
    """`title: String should have at most 200 characters; ...` from pydantic or problem errors."""
    parts = []
    for error in errors[:3]:
        if not isinstance(error, dict):
            continue
        where = error.get("loc") or error.get("pointer") or error.get("field") or ""
        if isinstance(where, list):
            where = ".".join(str(p) for p in where if p not in ("body", "payload", "query", "path"))
        message = error.get("msg") or error.get("message") or error.get("detail") or "invalid"
        where = str(where).strip("/").replace("/", ".")
        parts.append(f"{where}: {message}" if where else str(message))
    return "; ".join(parts)


# Global options, accepted before the command (`tessera -o json tasks list`) and after it
# (`tessera tasks list -o json`); the later one wins.
def _set_url(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(State).url_option = value


def _set_output(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(State).output = value


URL_HELP = f"Tessera's address [default: {DEFAULT_URL}, or the one you logged in to]."
OUTPUT_HELP = "table for people (the default), json for scripts."


def global_options[F: Callable[..., Any]](command: F) -> F:
    command = click.option(
        "--url", metavar="URL", expose_value=False, callback=_set_url, help=URL_HELP
    )(command)
    return click.option(
        "-o",
        "--output",
        type=click.Choice(["table", "json"]),
        expose_value=False,
        callback=_set_output,
        help=OUTPUT_HELP,
    )(command)


def interactive() -> bool:
    """Whether someone at a terminal can answer a question (tests stand in for this)."""
    return sys.stdin.isatty()


def confirm(yes: bool, question: str, *, action: str) -> None:
    """Go ahead with `yes`; otherwise ask at a terminal, and refuse where nobody can answer,
    so a script never deletes or revokes by accident."""
    if yes:
        return
    if not interactive():
        raise click.UsageError(
            f"{action} needs --yes when standard input is not a terminal "
            "(nobody is there to confirm)"
        )
    if not click.confirm(question, default=False, err=True):
        raise Failure(f"cancelled: {action} did not happen")


def yes_option[F: Callable[..., Any]](command: F) -> F:
    return click.option(
        "-y", "--yes", is_flag=True, help="Do it without asking (needed in scripts)."
    )(command)


ID = click.IntRange(min=1)
STATUS = click.Choice(TASK_STATUSES)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option(
    "--url",
    metavar="URL",
    envvar=URL_ENV,
    show_envvar=True,
    expose_value=False,
    callback=_set_url,
    help=URL_HELP,
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "json"]),
    expose_value=False,
    callback=_set_output,
    help=OUTPUT_HELP,
)
@click.version_option(__version__, "-V", "--version", prog_name="tessera")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Tessera from the command line: projects and tasks, with a personal access token.

    \b
    Log in once:   tessera auth login       (asks for the token)
              or:  tessera auth login --with-token < token.txt
    in CI:         export TESSERA_TOKEN=tsr_pat_...
    Then:          tessera whoami
                   tessera tasks list --project 1 -o json | jq '.[].title'
                   tessera api projects --paginate
    """
    ctx.ensure_object(State)


@main.command()
@global_options
@click.pass_obj
def whoami(state: State) -> None:
    """Show who the token acts as and what it may do."""
    url = state.url()
    with state.client() as client:
        me = client.me()
    if state.output == "json":
        emit_json(me.raw)
        return
    click.echo(_me_fields(me, url))


def _me_fields(me: Me, url: str) -> str:
    token = me.token
    projects = (
        "all"
        if token.all_projects or token.projects is None
        else ", ".join(f"{p.name} ({p.id})" for p in token.projects)
    )
    if me.user.email is None:  # a project token acts as no person
        user = me.user.name
    else:
        user = f"{me.user.name} <{me.user.email}>" if me.user.name else me.user.email
    return fields(
        [
            ("url", url),
            ("user", user),
            ("organization", f"{me.organization.name} ({me.organization.slug})"),
            ("role", me.organization.role),
            ("token", f"{token.name} ({token.prefix[:SHOWN_PREFIX]}…, {token.kind})"),
            ("scopes", " ".join(token.scopes)),
            ("effective", " ".join(token.effective_scopes) or "none"),
            ("projects", projects),
            ("expires", _when(token.expires_at) if token.expires_at else "never"),
        ]
    )


def _when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else None


# Projects


@main.group()
def projects() -> None:
    """List, read, create, change and delete projects."""


def _show(state: State, record: Project | Task, rows: list[tuple[str, Any]]) -> None:
    """One object: the JSON the API sent, or its fields for people."""
    if state.output == "json":
        emit_json(record.raw)
        return
    times = [("created", _when(record.created_at)), ("updated", _when(record.updated_at))]
    click.echo(fields([*rows, *times]))


def _listing(
    state: State,
    items: Sequence[Project | Task],
    *,
    none: str,
    headings: list[str],
    row: Callable[[Any], tuple[Any, ...]],
) -> None:
    """A list: one JSON array of every item, or a table for people."""
    if state.output == "json":
        emit_json([item.raw for item in items])
    elif not items:
        click.echo(none)
    else:
        click.echo(table(headings, [row(item) for item in items]))


def _deleted(state: State, what: str) -> None:
    if state.output != "json":
        click.echo(f"Deleted {what}.")


def _show_project(state: State, project: Project) -> None:
    rows = [("id", project.id), ("name", project.name), ("description", project.description)]
    _show(state, project, rows)


@projects.command("list")
@global_options
@click.pass_obj
def projects_list(state: State) -> None:
    """Every project the token can see, all pages."""
    with state.client() as client:
        items = client.projects.list()
    _listing(
        state,
        items,
        none="No projects.",
        headings=["ID", "NAME", "DESCRIPTION"],
        row=lambda p: (p.id, p.name, p.description),
    )


@projects.command("get")
@click.argument("project_id", metavar="ID", type=ID)
@global_options
@click.pass_obj
def projects_get(state: State, project_id: int) -> None:
    """Show one project."""
    with state.client(missing=f"project {project_id}") as client:
        project = client.projects.get(project_id)
    _show_project(state, project)


@projects.command("create", short_help="Create a project (needs projects:write).")
@click.option("--name", required=True, help="Up to 100 characters.")
@click.option("--description", default="", help="Up to 2,000 characters.")
@global_options
@click.pass_obj
def projects_create(state: State, name: str, description: str) -> None:
    """Create a project (needs projects:write and an admin or owner role)."""
    with state.client() as client:
        project = client.projects.create(name=name, description=description)
    _show_project(state, project)


@projects.command("update", short_help="Change a project's name or description.")
@click.argument("project_id", metavar="ID", type=ID)
@click.option("--name", help="The new name.")
@click.option("--description", help='The new description ("" clears it).')
@global_options
@click.pass_obj
def projects_update(
    state: State, project_id: int, name: str | None, description: str | None
) -> None:
    """Change a project's name or description; only the options given are changed."""
    if name is None and description is None:
        raise click.UsageError("nothing to change: give --name and/or --description")
    with state.client(missing=f"project {project_id}") as client:
        project = client.projects.update(project_id, name=name, description=description)
    _show_project(state, project)


@projects.command("delete")
@click.argument("project_id", metavar="ID", type=ID)
@yes_option
@global_options
@click.pass_obj
def projects_delete(state: State, project_id: int, yes: bool) -> None:
    """Delete a project and all its tasks (asks first, unless --yes)."""
    confirm(yes, f"Delete project {project_id} and all its tasks?", action="deleting a project")
    with state.client(missing=f"project {project_id}") as client:
        client.projects.delete(project_id)
    _deleted(state, f"project {project_id}")


# Tasks


@main.group()
def tasks() -> None:
    """List, read, create, change and delete tasks."""


def _show_task(state: State, task: Task) -> None:
    rows = [
        ("id", task.id),
        ("project", task.project_id),
        ("title", task.title),
        ("status", task.status),
        ("description", task.description),
    ]
    _show(state, task, rows)


@tasks.command("list")
@click.option(
    "--project", "project_id", metavar="ID", type=ID, required=True, help="The project's id."
)
@click.option("--status", type=STATUS, help="Only tasks with this status.")
@global_options
@click.pass_obj
def tasks_list(state: State, project_id: int, status: str | None) -> None:
    """Every task of a project, all pages."""
    with state.client(missing=f"project {project_id}") as client:
        items = client.tasks.list(project_id, status=status)
    _listing(
        state,
        items,
        none="No tasks.",
        headings=["ID", "STATUS", "TITLE"],
        row=lambda t: (t.id, t.status, t.title),
    )


@tasks.command("get")
@click.argument("task_id", metavar="ID", type=ID)
@global_options
@click.pass_obj
def tasks_get(state: State, task_id: int) -> None:
    """Show one task."""
    with state.client(missing=f"task {task_id}") as client:
        task = client.tasks.get(task_id)
    _show_task(state, task)


@tasks.command("create")
@click.option(
    "--project", "project_id", metavar="ID", type=ID, required=True, help="The project's id."
)
@click.option("--title", required=True, help="Up to 200 characters.")
@click.option("--description", default="", help="Up to 5,000 characters.")
@click.option("--status", type=STATUS, default="todo", show_default=True)
@global_options
@click.pass_obj
def tasks_create(state: State, project_id: int, title: str, description: str, status: str) -> None:
    """Create a task in a project (needs tasks:write)."""
    with state.client(missing=f"project {project_id}") as client:
        task = client.tasks.create(project_id, title=title, description=description, status=status)
    _show_task(state, task)


@tasks.command("update")
@click.argument("task_id", metavar="ID", type=ID)
@click.option("--title", help="The new title.")
@click.option("--description", help='The new description ("" clears it).')
@click.option("--status", type=STATUS, help="The new status.")
@global_options
@click.pass_obj
def tasks_update(
    state: State,
    task_id: int,
    title: str | None,
    description: str | None,
    status: str | None,
) -> None:
    """Change a task; only the options given are changed."""
    if title is None and description is None and status is None:
        raise click.UsageError("nothing to change: give --title, --description and/or --status")
    with state.client(missing=f"task {task_id}") as client:
        task = client.tasks.update(task_id, title=title, description=description, status=status)
    _show_task(state, task)


@tasks.command("delete")
@click.argument("task_id", metavar="ID", type=ID)
@yes_option
@global_options
@click.pass_obj
def tasks_delete(state: State, task_id: int, yes: bool) -> None:
    """Delete a task (asks first, unless --yes)."""
    confirm(yes, f"Delete task {task_id}?", action="deleting a task")
    with state.client(missing=f"task {task_id}") as client:
        client.tasks.delete(task_id)
    _deleted(state, f"task {task_id}")


# The commands kept in modules of their own add themselves to `main` when imported.
from . import cli_api, cli_auth  # noqa: E402, F401
