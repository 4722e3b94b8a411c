"""What runs on each host: the data host's services, the app hosts' Tessera, the balancer."""

import os
import shutil
import socket
import time
from pathlib import Path

from .hosts import (
    APP_PORT,
    APPS,
    DATA_IP,
    GUNICORN_WORKERS,
    LEASE_SECONDS,
    LIMIT,
    PG_PORT,
    PGBOUNCER_PORT,
    PORT,
    PYTHON,
    REDIS_PORT,
    ROOT,
    SMTP_PORT,
    STATIC_PORT,
    SUBNET,
    Cluster,
    app_ip,
    as_postgres,
    in_host,
    kill,
    pg_bin,
    port_taken,
    run,
    wait_for_port,
)

PGBOUNCER_INI = """\
[databases]
tessera = host=127.0.0.1 port={pg_port} dbname=tessera user=postgres

[pgbouncer]
listen_addr = {address}
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {folder}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
; While PostgreSQL is away, a client waits at most this long for a connection, then gets an
; error (Tessera answers 503) instead of hanging.
query_wait_timeout = 5
server_connect_timeout = 2
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
"""

STATIC_ROOT = ROOT / "var" / "static"  # settings.STATIC_ROOT

HAPROXY_CFG = """\
global
    maxconn 4000
    stats socket {folder}/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout queue 10s
    # A host busy with requests answers its check late, not never.
    timeout check 5s
    # A connection refused (a dead host) is tried on another host; a request that reached a
    # host is never sent twice, so no write is made twice.
    retries 2
    option redispatch
    option forwardfor
    errorfile 503 {folder}/503.http

frontend tessera
    bind 127.0.0.1:{port}
    use_backend static if {{ path_beg /static/ }}
    default_backend apps

# What a web server or a CDN does in front of gunicorn: the collected static files.
backend static
    http-request set-path %[path,regsub(^/static/,/)]
    server files {data}:{static_port} check

backend apps
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2
{servers}
"""

# The balancer's own answer when no host is ready (every host's database unreachable).
UNAVAILABLE = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/problem+json\r\n"
    "Retry-After: 5\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "\r\n"
    '{"type": "about:blank", "title": "Service unavailable", "status": 503, '
    '"detail": "No Tessera host is ready just now. Try again in a few seconds."}\n'
)


def data_up(cluster: Cluster) -> None:
    """PostgreSQL in a fresh folder, PgBouncer before it, Redis, and the mail catcher."""
    folder = cluster.folder
    (folder / "pg").mkdir()
    shutil.chown(folder / "pg", "postgres", "postgres")
    data = str(folder / "pg" / "data")
    run(
        *as_postgres(
            str(pg_bin() / "initdb"),
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
    )
    pg_start(cluster)  # on trust, but on the data host's loopback only: PgBouncer's way in
    run(
        *in_host(
            "data",
            *as_postgres(
                str(pg_bin() / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(PG_PORT),
                "-U",
                "postgres",
                "tessera",
            ),
        )
    )
    (folder / "userlist.txt").write_text(f'"postgres" "{cluster.password}"\n')
    (folder / "pgbouncer.ini").write_text(
        PGBOUNCER_INI.format(pg_port=PG_PORT, address=DATA_IP, port=PGBOUNCER_PORT, folder=folder)
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        shutil.chown(folder / name, "postgres", "postgres")
    pgbouncer = as_postgres("pgbouncer", str(folder / "pgbouncer.ini"))
    wait_for_port(DATA_IP, PGBOUNCER_PORT, process=cluster.spawn("data", "pgbouncer", pgbouncer))
    redis_start(cluster)
    (folder / "mail").mkdir()
    smtp = [PYTHON, "-m", "cluster.smtp", DATA_IP, str(SMTP_PORT), str(folder / "mail")]
    wait_for_port(DATA_IP, SMTP_PORT, process=cluster.spawn("data", "smtp", smtp))


def pg_start(cluster: Cluster) -> None:
    options = (
        f"-p {PG_PORT} -k {cluster.folder / 'pg'} -c listen_addresses=127.0.0.1 "
        "-c timezone=UTC -c max_connections=100"
    )
    data, log = cluster.folder / "pg" / "data", cluster.folder / "pg" / "postgres.log"
    pg_ctl = str(pg_bin() / "pg_ctl")
    run(
        *in_host(
            "data",
            *as_postgres(
                pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30", "start"
            ),
        )
    )


def pg_stop(cluster: Cluster, *, mode: str = "fast", check: bool = True) -> None:
    data, pg_ctl = cluster.folder / "pg" / "data", str(pg_bin() / "pg_ctl")
    stop = as_postgres(pg_ctl, "-D", str(data), "-m", mode, "-w", "-t", "30", "stop")
    run(*in_host("data", *stop), check=check)


def redis_start(cluster: Cluster) -> None:
    redis = [
        "redis-server",
        "--requirepass",
        cluster.password,
        "--bind",
        DATA_IP,
        "--port",
        str(REDIS_PORT),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
    ]
    wait_for_port(DATA_IP, REDIS_PORT, process=cluster.spawn("data", "redis", redis))


def redis_stop() -> None:
    kill("data", matching="redis-server")


def app_env(cluster: Cluster, n: int | None) -> dict[str, str]:
    """What every Tessera process of the cluster is configured with (README, "Operations")."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TESSERA_PRODUCTION": "1",
        "SECRET_KEY": cluster.secret_key,  # the same on every host: sessions cross hosts
        "DATABASE_URL": f"postgres://postgres:{cluster.password}@{DATA_IP}:{PGBOUNCER_PORT}/tessera",
        "DB_TRANSACTION_POOLING": "1",  # PgBouncer, transaction mode
        "DB_CONNECT_TIMEOUT": "2",
        "REDIS_URL": f"redis://:{cluster.password}@{DATA_IP}:{REDIS_PORT}/0",
        "EMAIL_HOST": DATA_IP,
        "EMAIL_PORT": str(SMTP_PORT),
        "EMAIL_USE_TLS": "0",
        # Plain HTTP between the balancer and the hosts (TLS would end at the balancer).
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": ",".join(["127.0.0.1", "localhost", *(app_ip(m) for m in APPS)]),
        "SITE_URL": f"http://127.0.0.1:{PORT}",
        "TRUSTED_PROXY_HOPS": "1",  # the balancer adds X-Forwarded-For
        "API_RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "METRICS_ALLOWED_IPS": f"{SUBNET}.0/24",
        "TASKS_LEASE_SECONDS": str(LEASE_SECONDS),
        "TASKS_SCHEDULE_TICK_SECONDS": "2",
        "LOG_FORMAT": "json",
        **({"PROMETHEUS_MULTIPROC_DIR": str(cluster.folder / f"app{n}-metrics")} if n else {}),
    }


def migrate(cluster: Cluster) -> None:
    """The schema, and the static files collected for the data host to serve."""
    env = app_env(cluster, None)
    run(*in_host("app1", PYTHON, "manage.py", "migrate", "--noinput"), env=env, timeout=300)
    run(PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=env, timeout=120)
    files = [PYTHON, "-m", "http.server", "--bind", DATA_IP, "--directory", str(STATIC_ROOT),
             str(STATIC_PORT)]  # fmt: skip
    wait_for_port(DATA_IP, STATIC_PORT, process=cluster.spawn("data", "static", files))


def app_up(cluster: Cluster, n: int, *, worker: bool = True) -> None:
    """gunicorn and, unless told otherwise, a task worker on app host `n`."""
    metrics = cluster.folder / f"app{n}-metrics"
    shutil.rmtree(metrics, ignore_errors=True)  # multiprocess files of a killed run
    metrics.mkdir()
    env = app_env(cluster, n)
    gunicorn = [
        str(Path(PYTHON).with_name("gunicorn")),
        "config.wsgi",
        "--bind",
        f"{app_ip(n)}:{APP_PORT}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--keep-alive",
        "5",
    ]
    server = cluster.spawn(f"app{n}", f"app{n}-gunicorn", gunicorn, env)
    if worker:
        worker_up(cluster, n)
    wait_for_port(app_ip(n), APP_PORT, process=server)


def worker_up(cluster: Cluster, n: int) -> None:
    command = [PYTHON, "manage.py", "worker", "--interval", "0.5"]
    cluster.spawn(f"app{n}", f"app{n}-worker", command, app_env(cluster, n))


def balancer_up(cluster: Cluster) -> None:
    folder = cluster.folder
    (folder / "503.http").write_text(UNAVAILABLE)
    servers = "\n".join(f"    server app{n} {app_ip(n)}:{APP_PORT} check" for n in APPS)
    config = HAPROXY_CFG.format(
        folder=folder, port=PORT, servers=servers, data=DATA_IP, static_port=STATIC_PORT
    )
    (folder / "haproxy.cfg").write_text(config)
    run("haproxy", "-c", "-q", "-f", str(folder / "haproxy.cfg"))
    if port_taken("127.0.0.1", PORT):
        raise RuntimeError(f"127.0.0.1:{PORT} is taken: choose another with CLUSTER_PORT")
    haproxy = cluster.spawn(None, "haproxy", ["haproxy", "-db", "-f", str(folder / "haproxy.cfg")])
    wait_for_port("127.0.0.1", PORT, process=haproxy)


def balancer_down() -> None:
    """Every cluster's HAProxy on this machine: there is room for one cluster at a time (its
    namespaces and port are fixed), whichever checkout started it."""
    for pid in run("pgrep", "-f", "haproxy -db -f .*/tessera-cluster-", check=False).split():
        run("kill", "-9", pid, check=False)


def balancer(cluster: Cluster, command: str) -> str:
    """A command on HAProxy's runtime API (`show stat`, `disable server apps/app2`, ...)."""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(5)
        client.connect(str(cluster.folder / "haproxy.sock"))
        client.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def servers_up(cluster: Cluster) -> dict[str, str]:
    """Each app host's state as the balancer sees it (UP, DOWN, MAINT, ...)."""
    rows = [line.split(",") for line in balancer(cluster, "show stat").splitlines()]
    return {
        row[1]: row[17]
        for row in rows
        if len(row) > 17 and row[0] == "apps" and row[1].startswith("app")
    }


def wait_until(check, *, timeout: float, what: str, every: float = 0.2) -> float:
    """Poll `check` until it holds; the seconds that took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic() - start


def up(cluster: Cluster) -> None:
    data_up(cluster)
    migrate(cluster)
    for n in APPS:
        app_up(cluster, n)
    balancer_up(cluster)
    wait_until(
        lambda: set(servers_up(cluster).values()) == {"UP"},
        timeout=30,
        what="the balancer seeing every app host up",
    )
