"""A PostgreSQL outage: a throwaway cluster of the test's own, stopped and started under gunicorn.

While it is down the API answers 503 JSON within the connect timeout (no 500 page, no traceback);
once it is back the same server processes answer again, and everything confirmed before is there.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import ROOT, Gunicorn, free_port, http

pytestmark = pytest.mark.stress
CONNECT_TIMEOUT = 2


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    return found[-1].parent


class Cluster:
    """initdb + pg_ctl in a temporary directory, on a free loopback port."""

    def __init__(self):
        self.bin = _pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        self.start()

    def _run(self, tool, *args):
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def destroy(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _manage(url, *args) -> str:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip()


def test_the_api_answers_503_while_the_database_is_down_and_recovers_without_a_restart():
    (ROOT / "var").mkdir(exist_ok=True)
    cluster = Cluster()
    server = None
    try:
        _manage(cluster.url, "migrate", "--noinput")
        _manage(cluster.url, "seed_demo")
        secret = _manage(
            cluster.url,
            "token_create",
            "--email",
            "owner@example.com",
            "--org",
            "acme",
            "--name",
            "outage",
            "--scopes",
            "projects:read,tasks:read,tasks:write",
        )
        server = Gunicorn(
            cluster.url, workers=2, extra_env={"DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT)}
        )
        projects = json.loads(http("GET", f"{server.url}/api/v1/projects", token=secret)[1])[
            "items"
        ]
        tasks_url = f"{server.url}/api/v1/projects/{projects[0]['id']}/tasks"
        confirmed = []
        for n in range(10):
            status, body = http(
                "POST", tasks_url, token=secret, body=json.dumps({"title": f"before {n}"}).encode()
            )
            assert status == 201
            confirmed.append(json.loads(body)["id"])

        cluster.stop()
        for method, body in [("GET", None), ("POST", b'{"title": "during"}')] * 3:
            started = time.monotonic()
            status, raw = http(
                method, tasks_url, token=secret, body=body, timeout=CONNECT_TIMEOUT + 10
            )
            elapsed = time.monotonic() - started
            assert status == 503, raw
            answer = json.loads(raw)
            assert answer["type"].endswith("/api/v1/problems/service-unavailable")
            assert b"Traceback" not in raw
            assert elapsed < CONNECT_TIMEOUT + 1.5

        cluster.start()
        deadline = time.monotonic() + 15
        statuses = []
        while time.monotonic() < deadline:
            status, raw = http("GET", f"{tasks_url}?page_size=200", token=secret)
            statuses.append(status)
            if status == 200:
                break
            time.sleep(0.2)
        assert statuses[-1] == 200, statuses
        assert set(statuses) <= {200, 503}
        listed = {task["id"] for task in json.loads(raw)["items"]}
        assert set(confirmed) <= listed
        print(f"recovered after {len(statuses)} request(s): {statuses}")
    finally:
        if server:
            server.stop()
        cluster.destroy()
