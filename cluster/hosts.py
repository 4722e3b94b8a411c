"""The cluster's hosts: namespaces on a bridge, and the processes each host runs."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "var" / "cluster.json"  # where `down` finds what `up` made
PREFIX = "tessera-"
BRIDGE = "tessera-br"
VETH = "tsv-"  # the bridge's end of each host's link
SUBNET = "10.188.0"  # private, and only the cluster's namespaces and bridge use it
BALANCER_IP = f"{SUBNET}.1"
DATA_IP = f"{SUBNET}.10"
APPS = (1, 2, 3)
APP_PORT, PGBOUNCER_PORT, PG_PORT, REDIS_PORT, SMTP_PORT = 8000, 6432, 5432, 6379, 2525
STATIC_PORT = 8080  # the data host serves the collected static files too
PORT = int(os.environ.get("CLUSTER_PORT", "8800"))
LIMIT = 600  # API_RATE_LIMIT_PER_MINUTE on every app host
GUNICORN_WORKERS = 2  # per app host
LEASE_SECONDS = 10  # TASKS_LEASE_SECONDS: a dead worker's task is run again this soon
PYTHON = str(Path(sys.executable))
CHILDREN: list[subprocess.Popen] = []  # reaped now and then, so killed hosts leave no zombies


def app_ip(n: int) -> str:
    return f"{SUBNET}.{10 + n}"


def run(*command: str, timeout: float = 60, check: bool = True, **kwargs) -> str:
    kwargs.setdefault("cwd", ROOT)  # manage.py is found from the checkout
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def in_host(host: str, *command: str) -> list[str]:
    return ["ip", "netns", "exec", PREFIX + host, *command]


def as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command]  # PostgreSQL refuses to run as root


class Cluster:
    """What `up` made, kept in var/cluster.json: the temporary folder and the shared secret."""

    def __init__(self, folder: Path, secret_key: str, password: str):
        # `password` is the data host's, for PgBouncer and Redis: the bridge reaches this host's
        # own namespace too, where any local user could otherwise connect as PostgreSQL's
        # superuser.
        self.folder, self.secret_key, self.password = folder, secret_key, password

    @classmethod
    def load(cls) -> "Cluster | None":
        try:
            saved = json.loads(STATE.read_text())
        except FileNotFoundError:
            return None
        return cls(Path(saved["folder"]), saved["secret_key"], saved["password"])

    @classmethod
    def create(cls) -> "Cluster":
        os.umask(0o077)  # the folder holds mail with sign-in links, logs and secrets: root's only
        folder = Path(tempfile.mkdtemp(prefix="tessera-cluster-"))
        folder.chmod(0o711)  # the postgres user reaches its own files in here
        cluster = cls(folder, secrets.token_urlsafe(50), secrets.token_hex(24))
        STATE.parent.mkdir(exist_ok=True)
        saved = {"folder": str(folder), "secret_key": cluster.secret_key}
        STATE.write_text(json.dumps({**saved, "password": cluster.password}))
        return cluster

    def spawn(self, host: str | None, name: str, command: list[str], env: dict | None = None):
        """Start `command` on `host` (None: this host) in a session of its own, logging to
        `name`.log in the folder."""
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
        argv = in_host(host, *command) if host else command
        child = subprocess.Popen(  # noqa: S603
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        log.close()
        CHILDREN.append(child)
        return child

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def reap() -> None:
    CHILDREN[:] = [child for child in CHILDREN if child.poll() is None]


def pids(host: str) -> list[int]:
    return [int(pid) for pid in run("ip", "netns", "pids", PREFIX + host, check=False).split()]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def kill(host: str, *, matching: str = "", sig: int = signal.SIGKILL) -> list[int]:
    """Send `sig` to every process on `host` (whose command line contains `matching`)."""
    killed = []
    for pid in pids(host):
        if matching in command_line(pid):
            try:
                os.kill(pid, sig)
                killed.append(pid)
            except ProcessLookupError:
                pass
    reap()
    return killed


def wait_for_port(
    address: str, port: int, *, timeout: float = 30, process: subprocess.Popen | None = None
) -> None:
    """Until something answers on `address`:`port`; `process`, when given, must be alive then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{' '.join(process.args)} ended ({process.returncode})")
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {address}:{port} within {timeout:.0f} s")


def network_up() -> None:
    """The bridge on this host, and a namespace per host with a veth into it."""
    run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "addr", "add", f"{BALANCER_IP}/24", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    for host, address in [("data", DATA_IP), *((f"app{n}", app_ip(n)) for n in APPS)]:
        namespace, veth = PREFIX + host, VETH + host
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        run("ip", "link", "set", veth, "master", BRIDGE, "up")
        run(*in_host(host, "ip", "addr", "add", f"{address}/24", "dev", "eth0"))
        run(*in_host(host, "ip", "link", "set", "eth0", "up"))
        run(*in_host(host, "ip", "link", "set", "lo", "up"))


def network_down() -> None:
    """Every process in the cluster's namespaces, then the namespaces and the bridge."""
    namespaces = [
        line.split()[0] for line in run("ip", "netns", "list").splitlines() if line.strip()
    ]
    for namespace in namespaces:
        if namespace.startswith(PREFIX):
            kill(namespace.removeprefix(PREFIX))
    for namespace in namespaces:
        if namespace.startswith(PREFIX):
            deadline = time.monotonic() + 10
            while pids(namespace.removeprefix(PREFIX)) and time.monotonic() < deadline:
                reap()
                time.sleep(0.1)
            run("ip", "netns", "delete", namespace, check=False)
    # A namespace goes once nothing holds it, a moment later: the veths go with their bridge end.
    for link in run("ip", "-o", "link", "show", "type", "veth").splitlines():
        name = link.split(":")[1].strip().split("@")[0]
        if name.startswith(VETH):
            run("ip", "link", "delete", name, check=False)
    run("ip", "link", "delete", BRIDGE, check=False)


def install_missing() -> None:
    """Debian's haproxy and pgbouncer, when missing (the cluster runs as root)."""
    wanted = [name for name in ("haproxy", "pgbouncer") if not shutil.which(name)]
    if wanted:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", timeout=300, env=env)
        run("apt-get", "install", "-y", "-qq", *wanted, timeout=600, env=env)
    for program in ("haproxy", "pgbouncer", "redis-server", "runuser"):
        if not shutil.which(program):
            raise RuntimeError(f"{program} is missing: install Debian's package for it")


def pg_bin() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: float(p.parts[-3])
    )
    if not found:
        raise RuntimeError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    return found[-1].parent


def port_taken(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False
