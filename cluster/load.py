"""Requests to the cluster: one at a time, many at once, or a steady load from a few clients."""

import http.client
import itertools
import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass
class Answer:
    status: int  # 0: no answer at all (refused, reset, timed out)
    headers: dict[str, str]  # names in lower case (HAProxy sends them so)
    body: bytes
    started: float
    ended: float
    kind: str = ""
    title: str = ""  # a write's task title, to look for afterwards
    cookies: tuple[str, ...] = ()  # each Set-Cookie's name=value

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


class Client:
    """One keep-alive connection to `address` (host:port), opened again after a failure."""

    def __init__(self, address: str, timeout: float = 15):
        self.address, self.timeout = address, timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, token: str = "", body=None, headers=None):
        headers = {"Accept": "application/json", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.address, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            cookies = tuple(c.split(";")[0] for c in response.msg.get_all("Set-Cookie") or ())
            answer = Answer(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
                started,
                time.monotonic(),
                cookies=cookies,
            )
            if (response.getheader("Connection") or "").lower() == "close":
                self.close()
            return answer
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return Answer(0, {}, str(error).encode(), started, time.monotonic())

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def many(address: str, count: int, send, *, clients: int = 12) -> list[Answer]:
    """`count` requests from `clients` threads: `send(client, i)` makes the i-th."""
    local = threading.local()

    def one(i: int) -> Answer:
        if not hasattr(local, "client"):
            local.client = Client(address)
        return send(local.client, i)

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(count)))


class Load:
    """`clients` threads, each sending a write (create a task) then `reads` reads (GET
    /api/v1/me) over and over, with the tokens in turn, until stopped."""

    def __init__(
        self,
        address: str,
        tokens: list[str],
        project_id: int,
        *,
        clients: int = 6,
        reads: int = 2,
        pause: float = 0.005,
    ):
        self.address, self.tokens, self.project_id = address, tokens, project_id
        self.clients, self.reads, self.pause = clients, reads, pause
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]
        self.run = uuid.uuid4().hex[:8]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _client(self, n: int) -> None:
        client = Client(self.address)
        for i in itertools.count():
            if self.stopping.is_set():
                break
            token = self.tokens[(n + i * self.clients) % len(self.tokens)]
            if i % (self.reads + 1) == 0:
                title = f"load {self.run} {n}-{i}"
                path = f"/api/v1/projects/{self.project_id}/tasks"
                answer = client.request("POST", path, token=token, body={"title": title})
                answer.kind, answer.title = "write", title
            else:
                answer = client.request("GET", "/api/v1/me", token=token)
                answer.kind = "read"
            self.answers.append(answer)  # list.append is atomic: read while running
            time.sleep(self.pause)
        client.close()

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if start <= a.started < end]


def statuses(answers: list[Answer]) -> str:
    """'200 ×41, 201 ×20, 503 ×3' (0 stands for no answer)."""
    counts = Counter(a.status for a in answers)
    return ", ".join(f"{status} ×{n}" for status, n in sorted(counts.items())) or "none"
