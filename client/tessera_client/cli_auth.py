"""`tessera auth login|logout|status` (with `login` and `logout` kept as top-level aliases), and
`tessera token rotate`: which token the CLI uses, for which server, and replacing it."""

import os
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
    global_options,
    main,
    yes_option,
)
from .client import ROTATION_OVERLAPS, Client
from .models import RotatedToken
from .output import emit_json


@main.group()
def auth() -> None:
    """Log in to Tessera servers, see which, and log out (one saved token per server)."""


@click.command("login")
@click.option("--token", "token_option", metavar="TOKEN", help="The token to log in with.")
@click.option("--with-token", is_flag=True, help="Read the token from standard input.")
@global_options
@click.pass_obj
def login(state: State, token_option: str | None, with_token: bool) -> None:
    """Check a token with the server, then save it for that server.

    The token comes from --token, from standard input with --with-token (keeps it out of the
    shell history and the process list), or from TESSERA_TOKEN. Nothing is saved unless the
    server accepts it. Each server keeps its own token; the last one logged in to becomes the
    default. The file is readable by you alone.
    """
    if token_option and with_token:
        raise click.UsageError("give --token or --with-token, not both")
    if with_token:
        token = sys.stdin.read().strip()
    elif token_option is not None:
        token = token_option.strip()
    elif env := os.environ.get(TOKEN_ENV, "").strip():
        token = env
    elif sys.stdin.isatty():
        token = click.prompt("Token", hide_input=True).strip()
    else:
        raise click.UsageError(
            f"give --token TOKEN, pipe it in with --with-token, or set {TOKEN_ENV}"
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


@click.command("logout")
@click.option(
    "--revoke", is_flag=True, help="Revoke the token on the server first, so it works nowhere."
)
@yes_option
@global_options
@click.pass_obj
def logout(state: State, revoke: bool, yes: bool) -> None:
    """Forget the token saved for this server (--url, TESSERA_URL, or the default).

    The token itself keeps working until it is revoked: --revoke does that first (asking,
    unless --yes), or revoke it under Settings → Developer.
    """
    state.warn_expiry = False  # a token on its way out needs no reminder of its end
    try:
        state.saved()
    except Failure:
        if revoke:
            raise
        _remove_damaged()
        return
    url = state.url()
    saved = state.saved().token_for(url)
    if revoke:
        if saved is None:
            note = f" ({TOKEN_ENV} is never revoked by logout)" if os.environ.get(TOKEN_ENV) else ""
            raise Failure(f"not logged in to {url}: there is no saved token to revoke{note}")
        confirm(
            yes,
            f"Revoke token {saved[:SHOWN_PREFIX]}… on {url}? Anything using it stops working.",
            action="revoking a token",
        )
        _revoke(state, url=url, token=saved)
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
    if os.environ.get(TOKEN_ENV):
        click.echo(f"tessera: note: {TOKEN_ENV} is set and is still used.", err=True)


def _remove_damaged() -> None:
    """A file tessera cannot read holds no token it can use: logging out removes it."""
    try:
        config.delete()
    except config.ConfigError as exc:
        raise Failure(str(exc)) from None
    click.echo(f"Logged out: {config.config_path()} could not be read, so it is deleted.")


def _revoke(state: State, *, url: str, token: str) -> None:
    """DELETE /tokens/self; a token the server already refuses is as good as revoked."""
    try:
        with state.client(token=token) as client:
            client.tokens.revoke_self()
    except Failure as failure:
        if failure.exit_code != Exit.AUTHENTICATION:
            raise
        click.echo(f"The server no longer accepts token {token[:SHOWN_PREFIX]}….")
        return
    click.echo(f"Revoked token {token[:SHOWN_PREFIX]}… on {url}: it works nowhere now.")


@click.command("status")
@global_options
@click.pass_obj
def status(state: State) -> None:
    """Check every saved token (or the one for --url) with its server, and TESSERA_TOKEN.

    Exits 1 when any of them is not accepted, 3 when there is none at all.
    """
    saved = state.saved()
    env = os.environ.get(TOKEN_ENV, "").strip()
    checks: list[tuple[str, str, str]] = []  # (url, token, where it comes from)
    if env:
        checks.append((state.url(), env, TOKEN_ENV))
    urls = [state.url()] if state.url_option else list(saved.tokens)
    checks += [(url, token, "saved") for url in urls if (token := saved.token_for(url))]
    if not checks:
        raise Failure(
            "not logged in to any Tessera server: run tessera auth login", Exit.AUTHENTICATION
        )
    reports = [_check(state, url=url, token=token, source=source) for url, token, source in checks]
    for report in reports:
        report["default"] = report["url"] == saved.default
    if state.output == "json":
        emit_json(reports)
    else:
        click.echo("\n".join(_status_lines(report) for report in reports))
    if not all(report["ok"] for report in reports):
        raise click.exceptions.Exit(int(Exit.ERROR))


def _check(state: State, *, url: str, token: str, source: str) -> dict[str, Any]:
    report: dict[str, Any] = {"url": url, "source": source, "token": token[:SHOWN_PREFIX]}
    try:
        with Client(url, token, **state.client_options) as client:
            me = client.me()
    except errors.TesseraError as exc:
        return {**report, "ok": False, "error": describe(exc, url=url)[0]}
    return {
        **report,
        "ok": True,
        "user": me.user.email or me.user.name,
        "organization": me.organization.slug,
        "role": me.organization.role,
        "scopes": me.token.scopes,
        "expires_at": me.raw["token"].get("expires_at"),
    }


def _status_lines(report: dict[str, Any]) -> str:
    heading = report["url"] + (" (default)" if report["default"] else "")
    where = "from " + TOKEN_ENV if report["source"] == TOKEN_ENV else "saved"
    token = f"token {report['token']}… ({where})"
    if not report["ok"]:
        return f"{heading}\n  ✗ {token}: {report['error']}"
    expires = report["expires_at"]
    ends = _when(datetime.fromisoformat(expires)) if expires else "never"
    return (
        f"{heading}\n  ✓ Logged in as {report['user']} ({report['organization']}, "
        f"{report['role']}) with {token}\n  scopes: {' '.join(report['scopes'])}; "
        f"expires: {ends}"
    )


auth.add_command(login)
auth.add_command(logout)
auth.add_command(status)
# Today's top-level commands stay, as aliases.
main.add_command(login)
main.add_command(logout)


@main.group()
def token() -> None:
    """The token in use: replace its secret."""


@token.command("rotate")
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
    from_env = bool(os.environ.get(TOKEN_ENV, "").strip())
    if from_env and not show:
        raise click.UsageError(
            f"the token comes from {TOKEN_ENV}, so there is nowhere to save its replacement: "
            "add --show to print it, then store it where the variable comes from"
        )
    state.warn_expiry = False
    with state.client() as client:
        rotated = client.tokens.rotate_self(overlap=overlap)
    saved_to = None
    if not from_env:
        try:
            saved_to = config.save(url=url, token=rotated.secret)
        except config.ConfigError as exc:
            # The old token may already be dead: losing the new one would lock the user out.
            click.echo(f"tessera: could not save the new token ({exc}); here it is:", err=True)
            click.echo(rotated.secret)
            raise Failure("save the token above yourself") from None
    _report_rotation(state, rotated, url=url, show=show, saved_to=saved_to)


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
