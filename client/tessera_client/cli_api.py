"""`tessera api PATH` (any endpoint, as `gh api` does) and `tessera completion SHELL`."""

import json
from typing import Any

import click
import httpx
from click.shell_completion import get_completion_class

from .cli import Failure, State, global_options, main
from .client import API_PATH, Client, _decode, next_link
from .output import emit_json

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")


def _field(text: str, typed: bool) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        flag = "-F" if typed else "-f"
        raise click.BadParameter(f"{text!r} is not key=value", param_hint=flag)
    if not typed:
        return key, value
    # -F: true, false, null and numbers become JSON values, as gh's --field does.
    literals: dict[str, Any] = {"true": True, "false": False, "null": None}
    if value in literals:
        return key, literals[value]
    try:
        return key, int(value)
    except ValueError:
        return key, value


def _relative(path: str) -> str:
    """`projects`, `/projects` and `/api/v1/projects` all mean /api/v1/projects."""
    if path.startswith(("http://", "https://")):
        return path
    path = path.lstrip("/")
    prefix = API_PATH.lstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


@main.command("api", short_help="Call any endpoint of the API and print its JSON.")
@click.argument("path")
@click.option(
    "-X",
    "--method",
    type=click.Choice(METHODS, case_sensitive=False),
    help="The HTTP method [default: GET, or POST with fields unless --paginate].",
)
@click.option(
    "-f", "--raw-field", "raw_fields", multiple=True, metavar="KEY=VALUE", help="A string field."
)
@click.option(
    "-F",
    "--field",
    "typed_fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A field whose true, false, null or number becomes that JSON value.",
)
@click.option(
    "--paginate",
    is_flag=True,
    help='GET, following Link rel="next", and merge every page\'s items.',
)
@global_options
@click.pass_obj
def api(
    state: State,
    path: str,
    method: str | None,
    raw_fields: tuple[str, ...],
    typed_fields: tuple[str, ...],
    paginate: bool,
) -> None:
    """Call any endpoint of the API with the token in use and print its JSON.

    PATH is relative to /api/v1 (`projects`, `/projects/1/tasks`) and may carry a query
    (`"projects?page=2"`). Fields go in the query string of a GET and in a JSON body otherwise;
    with fields the method is POST, unless -X says another or --paginate asks for pages (GET).

    \b
    tessera api me
    tessera api projects --paginate | jq '.items[].name'
    tessera api projects/1/tasks -f title="Write the notes"
    tessera api -X PATCH tasks/7 -f status=done
    """
    fields = dict(
        [_field(text, typed=False) for text in raw_fields]
        + [_field(text, typed=True) for text in typed_fields]
    )
    # Pages are read with GET: --paginate makes fields a query, as `gh api -X GET -F` does.
    method = (method or ("POST" if fields and not paginate else "GET")).upper()
    if paginate and method != "GET":
        raise click.UsageError(
            f"--paginate follows the pages of a GET only: drop -X {method} "
            "(fields then go in the query string)"
        )
    target, query = _split_query(_relative(path))
    if method in ("GET", "HEAD"):
        for key, value in fields.items():
            query = query.add(key, _query_value(value))
    body = fields if fields and method not in ("GET", "HEAD") else None
    if _is_self(target):
        # Revoking or rotating the token in use: a warning about its end would be old news.
        state.warn_expiry = False
    with state.client() as client:
        if paginate:
            result = _all_pages(client, target, query)
        else:
            response = client.send(method, target, json=body, params=query or None)
            result = _decode_any(response)
    if result is not None:
        emit_json(result)


def _split_query(path: str) -> tuple[str, httpx.QueryParams]:
    """The path and the query it carries, kept apart: httpx replaces a URL's query with the
    `params` it is given, so the two are merged here instead."""
    target, _, query = path.partition("?")
    return target, httpx.QueryParams(query)


def _query_value(value: Any) -> str:
    """-F's JSON values as a query string writes them: true, false, null, numbers."""
    return value if isinstance(value, str) else json.dumps(value)


def _is_self(path: str) -> bool:
    """Whether the request acts on the token in use (`tokens/self`, `tokens/self/rotate`)."""
    relative = httpx.URL(path).path.strip("/").removeprefix(API_PATH.strip("/") + "/")
    return relative == "tokens/self" or relative.startswith("tokens/self/")


def _decode_any(response: httpx.Response) -> Any:
    """JSON as JSON; anything else the API answered (a HEAD's nothing) as it came."""
    if response.request.method == "HEAD" or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _decode(response)  # raises: the API answers JSON, so this is not it


def _all_pages(client: Client, path: str, query: httpx.QueryParams | None) -> Any:
    """Every page from the one asked for (`?page=2` starts at 2), merged: one array for array
    pages; for `{"items", "count"}` pages, the first page's object with every page's items."""
    merged: Any = None
    url: str | None = path
    seen: set[str] = set()
    while url is not None:
        response = client.send("GET", url, params=query or None)
        page = _decode_any(response)
        if isinstance(page, list):
            merged = [*(merged or []), *page]
        elif isinstance(page, dict) and isinstance(page.get("items"), list):
            merged = (
                page if merged is None else {**merged, "items": merged["items"] + page["items"]}
            )
        else:
            raise Failure("--paginate: the answer is not a list nor a page of items")
        target = next_link(response.headers.get("Link"))
        url = str(response.request.url.join(target)) if target else None
        if url is not None and url in seen:
            raise Failure("--paginate: the server's next-page links go round in a loop")
        seen.add(url or "")
        query = None  # the next link carries its own
    return merged


@main.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for tessera.

    The script asks tessera itself which commands, options and values come next (click's
    completion protocol), so it never falls behind the commands.

    \b
    bash:  echo 'eval "$(tessera completion bash)"' >> ~/.bashrc
    zsh:   echo 'eval "$(tessera completion zsh)"' >> ~/.zshrc
    fish:  tessera completion fish > ~/.config/fish/completions/tessera.fish
    """
    cls = get_completion_class(shell)
    if cls is None:  # click ships all three; a guard for the type checker
        raise Failure(f"no completion for {shell}")
    click.echo(cls(main, {}, "tessera", "_TESSERA_COMPLETE").source())
