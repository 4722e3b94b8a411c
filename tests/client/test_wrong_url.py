"""A --url that is not Tessera: a real HTTP server on 127.0.0.1 that answers like a web site,
or like another API. The CLI says the address is not a Tessera server (exit 1), instead of
"not found" (exit 5, which means a missing project or task)."""

import errno
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tessera_client import Client, NotFound, NotTesseraServer

from tokens import codec

TESSERA = Path(sys.executable).with_name("tessera")
SECRET = codec.generate("pat")
# Servers started by tests bind to 127.0.0.1 within this range.
PORTS = range(18700, 18800)


class NotTessera(BaseHTTPRequestHandler):
    """An ordinary web site, with a JSON API of its own under /other/."""

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/projects/7"):  # another API's not-found
            self._answer(404, "application/json", json.dumps({"message": "Not Found"}))
        elif self.path.startswith("/api/v1/tasks/"):  # a site that answers every path with a page
            self._answer(200, "text/html", "<!doctype html><title>Shop</title>")
        else:
            self._answer(404, "text/html", "<!doctype html><title>404 Not Found</title>")

    def _answer(self, status: int, kind: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = None
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), NotTessera)
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    assert server is not None, "no free port in 18700-18799"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def tessera(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env = inherited | {"XDG_CONFIG_HOME": str(tmp_path), "TESSERA_TOKEN": SECRET}
    return subprocess.run(
        [str(TESSERA), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(
    ("args", "path", "answer"),
    [
        (["whoami"], "/api/v1/me", "HTTP 404 with text/html"),
        (["projects", "get", "7"], "/api/v1/projects/7", "HTTP 404 with application/json"),
        (["tasks", "get", "3"], "/api/v1/tasks/3", "HTTP 200 with text/html, not JSON"),
    ],
)
def test_a_server_that_is_not_tessera_is_named_as_such_with_exit_1(
    site, tmp_path, args, path, answer
):
    result = tessera("--url", site, *args, tmp_path=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"tessera: {site} is not a Tessera server: GET {path} answered {answer}")
    assert line.endswith(": check --url or TESSERA_URL")
    assert "not found" not in line
    assert SECRET not in result.stderr


def test_a_tessera_site_given_with_a_wrong_path_is_named_with_that_path(site, tmp_path):
    result = tessera("--url", f"{site}/shop", "whoami", tmp_path=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"tessera: {site}/shop is not a Tessera server: GET /shop/")


def test_the_sdk_raises_not_tessera_server_not_not_found(site):
    with Client(site, token=SECRET) as client, pytest.raises(NotTesseraServer) as caught:
        client.projects.get(7)
    assert not isinstance(caught.value, NotFound)
    assert caught.value.status == 404
