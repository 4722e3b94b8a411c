"""The SDK: one `Client` over httpx, with `projects` and `tasks` hanging off it.

Retries are deliberately narrow. A request is sent again only when sending it twice cannot do
anything twice: GET and DELETE, and POST because every POST carries an `Idempotency-Key` that is
reused on the retry. It happens on 503 (honouring Retry-After, capped) and when the connection
failed; never on 429, which the caller should see and slow down for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from .errors import (
    ConnectionFailed,
    TesseraError,
    TokenInvalid,
    error_from_response,
    not_tessera,
    parse_retry_after,
)
from .models import TASK_STATUSES, Me, Page, Project, RotatedToken, Task

try:
    __version__ = version("tessera-client")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

DEFAULT_URL = "http://127.0.0.1:8000"
API_PATH = "/api/v1"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 200
# Never wait longer than this between two tries, whatever Retry-After says.
MAX_RETRY_DELAY = 30.0
BACKOFF = 0.5
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# The failures where the request may never have reached the server, or its answer was lost.
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
# One link-value of an RFC 8288 Link header: <target> and its parameters up to the next link.
_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r'\brel\s*=\s*(?:"([^"]*)"|([^\s;,]+))', re.IGNORECASE)
# The header every authenticated answer carries for a token that expires (RFC 3339, UTC).
EXPIRES_HEADER = "Tessera-Token-Expires"
ROTATION_OVERLAPS = ("none", "1h", "24h", "7d")


def normalize_url(url: str) -> str:
    """The site's root URL: no trailing slash, no `/api/v1`. Raises ValueError when unusable."""
    url = url.strip().rstrip("/")
    if url.endswith(API_PATH):
        url = url[: -len(API_PATH)]
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a valid URL: {url!r} ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url


def next_link(header: str | None) -> str | None:
    """The target of `rel="next"` in an RFC 8288 Link header, if there is one."""
    for target, params in _LINK_VALUE.findall(header or ""):
        rel = _REL.search(params)
        if rel and "next" in (rel.group(1) or rel.group(2)).lower().split():
            return target
    return None


class Client:
    """A Tessera API client. Use it as a context manager, or call `close()` when done.

    `base_url` and `token` default to the `TESSERA_URL` and `TESSERA_TOKEN` environment
    variables. `transport` (an httpx transport) and `sleep` exist so tests can stand in for the
    network and the clock.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = normalize_url(base_url or os.environ.get("TESSERA_URL") or DEFAULT_URL)
        token = token if token is not None else os.environ.get("TESSERA_TOKEN")
        self.max_retries = max_retries
        self._sleep = sleep
        headers = {
            "User-Agent": f"tessera-client/{__version__}",
            "Accept": "application/json, application/problem+json",
        }
        if token:
            if not _PRINTABLE_ASCII.fullmatch(token):
                # Caught here, because httpx would fail with a bare UnicodeEncodeError or send a
                # broken header; a pasted "…" or line break is the usual cause.
                raise TokenInvalid(
                    "The token contains spaces, line breaks or non-ASCII characters, which no "
                    "token has: copy it again."
                )
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url + API_PATH + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
        )
        self.projects = Projects(self)
        self.tasks = Tasks(self)
        self.tokens = Tokens(self)
        # When the token in use expires, as the last answer said (None: never, or not told).
        self.token_expires_at: datetime | None = None

    def use_token(self, token: str) -> None:
        """Send `token` from now on (after a rotation, say)."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def me(self) -> Me:
        """Who this token acts as and what it may do: the call that checks a connection."""
        return _parse(Me.from_api, self.request("GET", "me"))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one API request (path relative to /api/v1/) and return its decoded JSON body."""
        return _decode(self._send(method, path, json=json, params=params))

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one API request (path relative to /api/v1/, or a URL on this server) and return
        the response itself, for what the typed methods do not cover (`tessera api`)."""
        if path.startswith(("http://", "https://")):
            self._check_same_origin(path)
        return self._send(method, path, json=json, params=params)

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        once: bool = False,
    ) -> httpx.Response:
        """`once`: never retried and never marked idempotent, for a request whose answer
        cannot be given twice (a rotation's new secret)."""
        method = method.upper()
        headers = {}
        if method == "POST" and not once:
            # One key per logical request, kept across retries, so the server can tell a retry
            # from a second create.
            headers["Idempotency-Key"] = str(uuid.uuid4())
        retryable = not once and (method in IDEMPOTENT_METHODS or "Idempotency-Key" in headers)
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method, url, json=json, params=params, headers=headers
                )
            except RETRYABLE_ERRORS as exc:
                if not retryable or attempt >= self.max_retries:
                    raise self._connection_failed(exc) from exc
                delay = BACKOFF * 2**attempt
            except httpx.HTTPError as exc:
                raise self._connection_failed(exc) from exc
            else:
                self._note_expiry(response)
                if response.is_success:
                    return response
                if response.status_code != 503 or not retryable or attempt >= self.max_retries:
                    raise error_from_response(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = BACKOFF * 2**attempt if retry_after is None else retry_after
            attempt += 1
            self._sleep(min(delay, MAX_RETRY_DELAY))

    def _note_expiry(self, response: httpx.Response) -> None:
        value = response.headers.get(EXPIRES_HEADER)
        if value:
            with contextlib.suppress(ValueError):
                self.token_expires_at = datetime.fromisoformat(value)

    def _connection_failed(self, exc: httpx.HTTPError) -> ConnectionFailed:
        reason = str(exc) or type(exc).__name__
        return ConnectionFailed(f"cannot reach {self.base_url}: {reason}")

    def _pages[T](
        self,
        path: str,
        parse: Callable[[Mapping[str, Any]], T],
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Page[T]]:
        """Every page of a list, in order.

        The server's `Link: <...>; rel="next"` is followed when it sends one; otherwise the page
        number goes up until `count` items were seen or a page comes back empty.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        url: str = path
        query: dict[str, Any] | None = {**(params or {}), "page": 1, "page_size": page_size}
        seen, visited, previous = 0, set(), None
        while True:
            response = self._send("GET", url, params=query)
            page = self._page_of(response, parse)
            if previous is not None and page.items and page.items == previous.items:
                # A server that ignores `page` would otherwise be asked forever.
                raise TesseraError("the server returned the same page twice; stopping")
            yield page
            previous = page
            seen += len(page.items)
            following = page.next_url
            if following:
                if following in visited:
                    raise TesseraError("the server's next-page links go round in a loop")
                visited.add(following)
                url, query = following, None
            elif "Link" in response.headers or query is None:
                return  # the server pages by Link, and this page names no next one
            elif not page.items or (page.count is not None and seen >= page.count):
                return
            else:
                query = {**query, "page": query["page"] + 1}

    def _page_of[T](
        self, response: httpx.Response, parse: Callable[[Mapping[str, Any]], T]
    ) -> Page[T]:
        """A page from `{"items": [...], "count": N}` and its Link header."""
        body = _decode(response)
        if isinstance(body, list):  # an unpaged list: everything came at once
            return Page(items=[_parse(parse, item) for item in body], count=len(body))
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise TesseraError("unexpected response from the server: no list of items")
        count = body.get("count")
        following = None
        if target := next_link(response.headers.get("Link")):
            following = str(response.request.url.join(target))
            self._check_same_origin(following)
        return Page(
            items=[_parse(parse, item) for item in body["items"]],
            count=count if isinstance(count, int) else None,
            next_url=following,
        )

    def _check_same_origin(self, url: str) -> None:
        """The token goes with every request, so never follow a link to another server."""
        here, there = httpx.URL(self.base_url), httpx.URL(url)
        if (here.scheme, here.host, here.port) != (there.scheme, there.host, there.port):
            raise TesseraError(f"refusing to follow a next-page link to another origin: {url}")


class Projects:
    """`client.projects`: the projects the token can see."""

    def __init__(self, client: Client):
        self._client = client

    def page(self, page: int = 1, *, page_size: int = DEFAULT_PAGE_SIZE) -> Page[Project]:
        """One page, as the server cut it."""
        params = {"page": page, "page_size": page_size}
        response = self._client._send("GET", "projects", params=params)
        return self._client._page_of(response, Project.from_api)

    def iter(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[Project]:
        """Every project, fetching page after page as the loop asks for more."""
        for page in self._client._pages("projects", Project.from_api, page_size=page_size):
            yield from page.items

    def list(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> list[Project]:
        """Every project, all pages fetched."""
        return [*self.iter(page_size=page_size)]

    def get(self, project_id: int) -> Project:
        return _parse(Project.from_api, self._client.request("GET", _path("projects", project_id)))

    def create(self, *, name: str, description: str = "") -> Project:
        body = {"name": name, "description": description}
        return _parse(Project.from_api, self._client.request("POST", "projects", json=body))

    def update(
        self, project_id: int, *, name: str | None = None, description: str | None = None
    ) -> Project:
        """PATCH only the fields given; `description=""` clears the description."""
        body = _given(name=name, description=description)
        data = self._client.request("PATCH", _path("projects", project_id), json=body)
        return _parse(Project.from_api, data)

    def delete(self, project_id: int) -> None:
        """Delete the project and its tasks."""
        self._client.request("DELETE", _path("projects", project_id))


class Tasks:
    """`client.tasks`: tasks within the projects the token can see."""

    def __init__(self, client: Client):
        self._client = client

    def page(
        self,
        project_id: int,
        page: int = 1,
        *,
        status: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Task]:
        """One page of a project's tasks, as the server cut it (filtered by `status` if given)."""
        params = {**_status_query(status), "page": page, "page_size": page_size}
        response = self._client._send("GET", _path("projects", project_id, "tasks"), params=params)
        return _only(self._client._page_of(response, Task.from_api), status)

    def iter(
        self, project_id: int, *, status: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[Task]:
        """Every task of a project, page after page, optionally only those with `status`."""
        pages = self._client._pages(
            _path("projects", project_id, "tasks"),
            Task.from_api,
            params=_status_query(status),
            page_size=page_size,
        )
        for page in pages:
            yield from _only(page, status).items

    def list(
        self, project_id: int, *, status: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[Task]:
        return [*self.iter(project_id, status=status, page_size=page_size)]

    def get(self, task_id: int) -> Task:
        return _parse(Task.from_api, self._client.request("GET", _path("tasks", task_id)))

    def create(
        self, project_id: int, *, title: str, description: str = "", status: str = "todo"
    ) -> Task:
        body = {"title": title, "description": description, "status": status}
        data = self._client.request("POST", _path("projects", project_id, "tasks"), json=body)
        return _parse(Task.from_api, data)

    def update(
        self,
        task_id: int,
        *,
        title: str | None = None,
        description: str | None = None,
        status: str | None = None,
    ) -> Task:
        """PATCH only the fields given."""
        body = _given(title=title, description=description, status=status)
        data = self._client.request("PATCH", _path("tasks", task_id), json=body)
        return _parse(Task.from_api, data)

    def delete(self, task_id: int) -> None:
        self._client.request("DELETE", _path("tasks", task_id))


class Tokens:
    """`client.tokens`: the token in use acting on itself (a token can touch no other)."""

    def __init__(self, client: Client):
        self._client = client

    def rotate_self(self, *, overlap: str = "none") -> RotatedToken:
        """Replace this token with a new secret, same settings; the client sends the new one
        from then on. The old one stops at once, or after `overlap` ("1h", "24h", "7d").

        Sent once and never retried: the server keeps no copy of the new secret, so a retry
        could only be refused as already rotated. If the answer is lost, rotate or revoke the
        token under Settings → Developer."""
        if overlap not in ROTATION_OVERLAPS:
            raise ValueError(f"overlap must be one of {', '.join(ROTATION_OVERLAPS)}")
        response = self._client._send(
            "POST", "tokens/self/rotate", json={"overlap": overlap}, once=True
        )
        rotated = _parse(RotatedToken.from_api, _decode(response))
        if location := response.headers.get("Location"):
            rotated = dataclasses.replace(rotated, location=str(response.url.join(location)))
        self._client.use_token(rotated.secret)
        self._client.token_expires_at = rotated.token.expires_at
        return rotated

    def revoke_self(self) -> None:
        """Revoke this token at once and for good; its next request is refused."""
        self._client.request("DELETE", "tokens/self")


def _path(*parts: str | int) -> str:
    # int() on ids keeps anything but a number out of the URL path.
    return "/".join(str(int(part)) if not isinstance(part, str) else part for part in parts)


def _given(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _status_query(status: str | None) -> dict[str, str]:
    if status is None:
        return {}
    if status not in TASK_STATUSES:
        raise ValueError(f"status must be one of {', '.join(TASK_STATUSES)}")
    return {"status": status}


def _only(page: Page[Task], status: str | None) -> Page[Task]:
    """Filter on our side too: a server that ignores `?status=` still yields only those tasks."""
    if status is None:
        return page
    kept = [task for task in page.items if task.status == status]
    return Page(items=kept, count=page.count, next_url=page.next_url)


def _decode(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        # Every answer of the API is JSON: a page (a sign-in page, a site's catch-all) means
        # this address is something else.
        raise not_tessera(response, "not JSON") from exc


def _parse[T](parse: Callable[[Mapping[str, Any]], T], data: Any) -> T:
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TesseraError(f"unexpected response from the server: {exc!r}") from exc
