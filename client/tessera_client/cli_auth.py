"""`tessera auth login|logout|status` (with `login` and `logout` kept as top-level aliases), and
`tessera token rotate`: which token the CLI uses, for which server, and replacing it."""

import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from . import config, errors
from .cli import (
    SHOWN_PREFIX,
    TOKEN_ENV,
    Exit,
    Failure,
    State,
    _when,
    confirm,
    describe,
    env_token,
    global_options,
    main,
    switch_to_replacement,
    yes_option,
)
from .client import ROTATION_OVERLAPS, Client
from .models import RotatedToken
from .output import emit_json


@main.group(short_help="Log in to servers, see which, and log out.")
def auth() -> None:
    """Log in to Tessera servers, see which, and log out (one saved token per server)."""


@click.command("login")
@click.option(
    "--with-token",
    is_flag=True,
    help="Read the token from standard input (asks for it, hidden, at a terminal).",
)
@click.option(
    "--token",
    "token_option",
    metavar="TOKEN",
    help="The token itself (stays in the shell history: prefer --with-token).",
)
@global_options
@click.pass_obj
def login(state: State, token_option: str | None, with_token: bool) -> None:
    """Check a token with the server, then save it for that server.

    The token comes from standard input with --with-token (or a hidden prompt at a terminal),
    which keeps it out of the shell history and the process list; from --token; or from
    TESSERA_TOKEN. Nothing is saved unless the server accepts it. Each server keeps its own
    token; the last one logged in to becomes the default. The file is readable by you alone.
    """
    if token_option and with_token:
        raise click.UsageError("give --token or --with-token, not both")
    if with_token and not sys.stdin.isatty():
        token = sys.stdin.read().strip()
    elif token_option is not None:
        token = token_option.strip()
    elif not with_token and (env := env_token()):
        token = env
    elif sys.stdin.isatty():
        token = click.prompt("Token", hide_input=True, err=True).strip()
    else:
        raise click.UsageError(
            f"pipe the token in with --with-token (tessera auth login --with-token < token.txt), "
            f"or set {TOKEN_ENV}"
        )
    if not token:
        raise click.UsageError("the token is empty")
    url = state.url()
    with state.client(token=token) as client:
        me = client.me()
    path = _save(state, url=url, token=token)
    if state.output == "json":
        emit_json(me.raw)
        return
    click.echo(
        f"Logged in to {url} as {me.user.email or me.user.name} ({me.organization.name}, "
        f"{me.organization.role}) with token {me.token.prefix[:SHOWN_PREFIX]}…"
    )
    click.echo(f"Saved to {path}")


def _save(state: State, *, url: str, token: str) -> Path:
    try:
        path = config.save(url=url, token=token)
    except config.ConfigError as exc:
        raise Failure(str(exc)) from None
    state.forget_saved()
    return path


@click.command("logout", short_help="Forget this server's token (--revoke ends it first).")
@click.option(
    "--revoke",
    is_flag=True,
    help="Revoke the saved token on the server first, so it stops working everywhere.",
)
@yes_option
@global_options
@click.pass_obj
def logout(state: State, revoke: bool, yes: bool) -> None:
    """Forget the token saved for this server (--url, TESSERA_URL, or the default).

    The token itself keeps working until it is revoked: --revoke does that first (asking,
    unless --yes), or revoke it under Settings → Developer. A token it replaced by a rotation
    with an overlap works until the overlap ends, unless revoked on its page.
    """
    state.warn_expiry = False  # a token on its way out needs no reminder of its end
    try:
        saved_config = state.saved()
    except Failure:
        if revoke:
            raise
        _remove_damaged()
        return
    env_note = f" ({TOKEN_ENV} is never revoked by logout)" if env_token() else ""
    if not saved_config.tokens and not state.url_option:
        # No server to name: the default address would only be a guess.
        if revoke:
            raise Failure(
                f"not logged in to any Tessera server: there is no saved token to revoke{env_note}",
                Exit.AUTHENTICATION,
            )
        click.echo("Not logged in to any Tessera server: there is nothing to log out of.")
        _note_env()
        return
    url = state.url()
    saved = saved_config.token_for(url)
    if revoke:
        if saved is None:
            raise Failure(
                f"not logged in to {url}: there is no saved token to revoke{env_note}",
                Exit.AUTHENTICATION,
            )
        confirm(
            yes,
            f"Revoke token {saved[:SHOWN_PREFIX]}… on {url}? Anything using it stops working.",
            action="revoking a token",
        )
        replaced = [
            old for old in saved_config.rotated_for(url) if old.sha256 != config.digest(saved)
        ]
        _revoke(state, url=url, token=saved, replaced=replaced)
    try:
        removed = config.forget(url)
    except config.ConfigError as exc:
        raise Failure(str(exc)) from None
    state.forget_saved()
    if removed:
        click.echo(f"Logged out of {url}: its saved token is deleted from this machine.")
        if not revoke:
            click.echo("The token still works until you revoke it under Settings → Developer.")
    else:
        click.echo(f"Not logged in to {url}: there was no saved token.")
    _note_env()


def _note_env() -> None:
    if env_token():
        click.echo(f"tessera: note: {TOKEN_ENV} is set and is still used.", err=True)


def _remove_damaged() -> None:
    """A file tessera cannot read holds no token it can use: logging out removes it."""
    try:
        config.delete()
    except config.ConfigError as exc:
        raise Failure(str(exc)) from None
    click.echo(f"Logged out: {config.config_path()} could not be read, so it is deleted.")


def _revoke(state: State, *, url: str, token: str, replaced: list[config.Rotation]) -> None:
    """DELETE /tokens/self; a token the server already refuses is as good as revoked.

    It revokes the calling token only. A token this one replaced by a rotation with an overlap
    keeps working until the overlap ends, and its secret is gone from this machine, so it cannot
    revoke itself from here: say so, and where to end it now."""
    try:
        with state.client(token=token) as client:
            client.tokens.revoke_self()
    except Failure as failure:
        if failure.exit_code != Exit.AUTHENTICATION:
            raise
        click.echo(f"The server no longer accepts token {token[:SHOWN_PREFIX]}….")
    else:
        done = "." if replaced else ": it works nowhere now."
        click.echo(f"Revoked token {token[:SHOWN_PREFIX]}… on {url}{done}")
    for old in replaced:
        page = old.page or f"{url}/settings/developer/"
        click.echo(
            f"The token it replaced, {old.prefix[:SHOWN_PREFIX]}…, still works until "
            f"{_when(old.ends)} (the rotation's overlap): to end it now, revoke it on its "
            f"page, {page}"
        )


@click.command("status", short_help="Check the saved tokens, and TESSERA_TOKEN.")
@global_options
@click.pass_obj
def status(state: State) -> None:
    """Check every saved token (or the one for --url) with its server, and TESSERA_TOKEN.

    TESSERA_TOKEN, when set, is the token in use, for every server: the saved ones are shown
    too, as unused. Exits 3 when a token is not accepted or there is none (authentication),
    1 when a server cannot be reached.
    """
    saved = state.saved()
    env = env_token()
    checks: list[tuple[str, str, str]] = []  # (url, token, where it comes from)
    if env:
        checks.append((state.url(), env, TOKEN_ENV))
    urls = [state.url()] if state.url_option else list(saved.tokens)
    checks += [(url, token, "saved") for url in urls if (token := saved.token_for(url))]
    if not checks:
        if state.url_option:
            raise state.not_logged_in(state.url())
        raise Failure(
            "not logged in to any Tessera server: run tessera auth login", Exit.AUTHENTICATION
        )
    reports = []
    for url, token, source in checks:
        report = _check(state, url=url, token=token, source=source)
        report["default"] = url == saved.default
        # TESSERA_TOKEN wins over every saved token, whichever server a command talks to.
        report["in_use"] = source == TOKEN_ENV or not env
        if (rotation := saved.rotation_of(token)) and report["ok"]:
            report["rotated"] = {
                "works_until": rotation.expires_at,
                "advice": switch_to_replacement(rotation, from_env=source == TOKEN_ENV, url=url),
            }
        reports.append(report)
    codes = {report.pop("code") for report in reports if not report["ok"]}
    if state.output == "json":
        emit_json(reports)
    else:
        click.echo(_status_text(reports))
    if codes:
        failed = Exit.AUTHENTICATION if Exit.AUTHENTICATION in codes else Exit.ERROR
        raise click.exceptions.Exit(int(failed))


def _check(state: State, *, url: str, token: str, source: str) -> dict[str, Any]:
    report: dict[str, Any] = {"url": url, "source": source, "token": token[:SHOWN_PREFIX]}
    try:
        with Client(url, token, **state.client_options) as client:
            me = client.me()
    except errors.TesseraError as exc:
        message, code = describe(exc, url=url, from_env=source == TOKEN_ENV)
        return {**report, "ok": False, "error": message, "code": code}
    return {
        **report,
        "ok": True,
        "user": me.user.email or me.user.name,
        "organization": me.organization.slug,
        "role": me.organization.role,
        "scopes": me.token.scopes,
        "expires_at": me.raw["token"].get("expires_at"),
    }


def _status_text(reports: list[dict[str, Any]]) -> str:
    """One heading per server, and under it each token checked against it."""
    lines: list[str] = []
    for url in dict.fromkeys(report["url"] for report in reports):
        here = [report for report in reports if report["url"] == url]
        lines.append(url + (" (default)" if here[0]["default"] else ""))
        lines += [line for report in here for line in _token_lines(report)]
    return "\n".join(lines)


def _token_lines(report: dict[str, Any]) -> list[str]:
    if report["source"] == TOKEN_ENV:
        where = f"{TOKEN_ENV}, in use"
    else:
        where = "saved" if report["in_use"] else f"saved, unused while {TOKEN_ENV} is set"
    token = f"token {report['token']}… ({where})"
    if not report["ok"]:
        return [f"  ✗ {token}: {report['error']}"]
    expires = report["expires_at"]
    ends = _when(datetime.fromisoformat(expires)) if expires else "never"
    lines = [
        f"  ✓ Logged in as {report['user']} ({report['organization']}, {report['role']}) "
        f"with {token}",
        f"  scopes: {' '.join(report['scopes'])}; expires: {ends}",
    ]
    if rotated := report.get("rotated"):
        until = _when(datetime.fromisoformat(rotated["works_until"]))
        lines.append(f"  rotated: works until {until}: {rotated['advice']}")
    return lines


auth.add_command(login)
auth.add_command(logout)
auth.add_command(status)
# Today's top-level commands stay, as aliases.
main.add_command(login)
main.add_command(logout)


@main.group()
def token() -> None:
    """The token in use: replace its secret."""


@token.command("rotate", short_help="Replace the token in use with a new secret, same access.")
@click.option(
    "--overlap",
    type=click.Choice(ROTATION_OVERLAPS),
    default="none",
    show_default=True,
    help="How long the old token keeps working beside the new one.",
)
@click.option(
    "--show",
    is_flag=True,
    help="Print the new token on standard output (alone; with -o json, in the JSON).",
)
@global_options
@click.pass_obj
def rotate(state: State, overlap: str, show: bool) -> None:
    """Replace the token in use with a new secret, same access; the saved one is swapped.

    The new secret is printed only with --show: needed when the token comes from TESSERA_TOKEN,
    since there is nowhere to save it then.
    """
    url = state.url()
    from_env = env_token() is not None
    if from_env and not show:
        raise click.UsageError(
            f"the token comes from {TOKEN_ENV}, so there is nowhere to save its replacement: "
            "add --show to print it, then store it where the variable comes from"
        )
    state.warn_expiry = False
    with state.client() as client:
        old = state.token(url) or ""
        try:
            rotated = client.tokens.rotate_self(overlap=overlap)
        except errors.Conflict:
            raise _already_rotated(state, client, url=url, token=old, from_env=from_env) from None
    saved_to = None
    if not from_env:
        try:
            saved_to = config.save(url=url, token=rotated.secret)
        except config.ConfigError as exc:
            # The old token may already be dead: losing the new one would lock the user out.
            click.echo(f"tessera: could not save the new token ({exc}); here it is:", err=True)
            click.echo(rotated.secret)
            raise Failure("save the token above yourself") from None
    _remember(state, rotated, url=url, old=old)
    _report_rotation(state, rotated, url=url, show=show, saved_to=saved_to)


def _already_rotated(
    state: State, client: Client, *, url: str, token: str, from_env: bool
) -> Failure:
    """The server refuses to rotate a token twice: this one was rotated before (elsewhere, or
    by this CLI with its secret kept in TESSERA_TOKEN), and works only through its overlap.
    Rotating is not the way on: its replacement is."""
    rotation = state.saved_quietly().rotation_of(token)
    ends = client.token_expires_at  # from the refusal's Tessera-Token-Expires
    if rotation is None and ends is not None and _later(ends):
        rotation = config.Rotation(
            url=url, sha256=config.digest(token), prefix=token[:SHOWN_PREFIX],
            expires_at=ends.isoformat(),
        )  # fmt: skip
        with contextlib.suppress(config.ConfigError):  # a hint for next time, no more
            config.remember_rotation(rotation)
        state.forget_saved()
    until = f" and works until {_when(ends)}" if ends and _later(ends) else ""
    advice = switch_to_replacement(rotation, from_env=from_env, url=url)
    return Failure(f"this token was already rotated{until}: {advice}")


def _remember(state: State, rotated: RotatedToken, *, url: str, old: str) -> None:
    """A token replaced with an overlap still works: note it (by its digest), so that no
    warning offers to rotate it again and logout --revoke can say it still works."""
    ends = rotated.replaced_expires_at
    if not old or ends is None or not _later(ends):
        return
    rotation = config.Rotation(
        url=url,
        sha256=config.digest(old),
        prefix=rotated.replaced_prefix,
        expires_at=ends.isoformat(),
        replacement=rotated.token.prefix,
        page=rotated.replaced_page,
    )
    with contextlib.suppress(config.ConfigError):  # the rotation itself went through
        config.remember_rotation(rotation)
    state.forget_saved()


def _report_rotation(
    state: State, rotated: RotatedToken, *, url: str, show: bool, saved_to: Path | None
) -> None:
    if state.output == "json":
        body = dict(rotated.raw)
        if not show:
            body.pop("secret", None)
        emit_json(body)
        return
    new, old = rotated.token, rotated.replaced_prefix
    ends = rotated.replaced_expires_at
    lines = [
        f"Rotated: the new token is {new.prefix[:SHOWN_PREFIX]}…"
        + (f", saved for {url}" if saved_to else "")
        + f" (expires {_when(new.expires_at) or 'never'}).",
        f"The old token {old[:SHOWN_PREFIX]}… "
        + (f"stops working at {_when(ends)}." if _later(ends) else "stopped working now."),
    ]
    if show:
        click.echo("\n".join(lines), err=True)
        click.echo(rotated.secret)
    else:
        click.echo("\n".join(lines))


def _later(moment: datetime | None) -> bool:
    return moment is not None and moment > datetime.now(UTC)
