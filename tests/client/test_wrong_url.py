"""A --url that is not Tessera: a real HTTP server on 127.0.0.1 that answers like a web site,
or like another API. The CLI says the address is not a Tessera server (exit 1), instead of
"not found" (exit 5, which means a missing project or task)."""

import errno
import json
import os
import socket
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


def _ports() -> range:
    """Where servers started by these tests bind on 127.0.0.1: 18700-18799, or the range in
    TESSERA_TEST_PORTS ("18850-18899") when several test runs share the machine."""
    first, _, last = os.environ.get("TESSERA_TEST_PORTS", "18700-18799").partition("-")
    return range(int(first), int(last) + 1)


PORTS = _ports()


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
    assert server is not None, f"no free port in {PORTS.start}-{PORTS.stop - 1}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def tessera(*args: str, tmp_path: Path, token: bool = True) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env = (
        inherited
        | {"XDG_CONFIG_HOME": str(tmp_path)}
        | ({"TESSERA_TOKEN": SECRET} if token else {})
    )
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


def a_free_port() -> int:
    """A port in PORTS where nothing listens (bound, then closed again)."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


def logged_in_elsewhere(tmp_path: Path) -> None:
    """A token saved for another server, and none for the one the test names."""
    folder = tmp_path / "tessera"
    folder.mkdir(parents=True)
    servers = {"http://tessera.test": {"token": SECRET}}
    data = {"version": 2, "default": "http://tessera.test", "servers": servers}
    (folder / "config.json").write_text(json.dumps(data))
    (folder / "config.json").chmod(0o600)


def test_a_wrong_url_without_a_login_is_named_not_tessera_rather_than_not_logged_in(site, tmp_path):
    logged_in_elsewhere(tmp_path)
    result = tessera("--url", site, "whoami", tmp_path=tmp_path, token=False)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"tessera: {site} is not a Tessera server: GET /api/v1/me answered")
    assert "not logged in" not in line


def test_a_dead_port_without_a_login_is_said_to_be_unreachable(tmp_path):
    logged_in_elsewhere(tmp_path)
    url = f"http://127.0.0.1:{a_free_port()}"
    for args in (["whoami"], ["auth", "status"]):
        result = tessera("--url", url, *args, tmp_path=tmp_path, token=False)
        assert result.returncode == 1, result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"tessera: cannot reach {url}: ")
        assert line.endswith("is the server running there? check --url or TESSERA_URL")
