"""Load test: gunicorn (2 workers, DEBUG off) on loopback and PostgreSQL, driven by wrk.

Scenarios: GET /api/v1/me with one token, with many tokens in rotation, and the unauthenticated
/healthz; /api/v1/me's throughput is reported as a share of /healthz's. The per-token rate limit
is raised far above what a run sends: this measures throughput, not 429s. The warm-up runs on its own gunicorn with its own tokens; the measured run starts a
fresh gunicorn with tokens never used before, and stops it before the UPDATEs on the tokens table
are counted (a server process flushes its statistics when it exits). So the count is exact: one
write per token, however many requests it serves. Runs are bounded by --duration.

    python -m bench.loadtest --duration 30
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB_NAME = "tessera_load"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database() -> str:
    import psycopg

    admin = os.environ.get("BENCH_PG_ADMIN_URL", PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{admin.rsplit('/', 1)[0]}/{DB_NAME}"


def seed(database_url: str, count: int) -> list[str]:
    """Migrate, then create a user in an organization and `count` read-write tokens."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    # The tokens' creation emails go nowhere; the load test is about requests.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    django.setup()
    from allauth.account.models import EmailAddress
    from django.core.management import call_command

    from accounts.models import User
    from orgs.services import organization_create
    from tokens.permissions import READ_WRITE
    from tokens.services import token_create

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(email="load@example.com", password=None)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    org = organization_create(name="Load", owner=user)
    return [
        token_create(owner=user, organization=org, name=f"load {n}", scopes=sorted(READ_WRITE))[1]
        for n in range(count)
    ]


def updates_to_tokens() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'tokens_token'")
        return cursor.fetchone()[0]


class Server:
    def __init__(self, database_url: str, workers: int, root: Path = ROOT):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "API_RATE_LIMIT_PER_MINUTE": str(10**9),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=root,
            env=env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * UNITS[unit]

    percentiles = {p: ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    total = re.search(r"(\d+) requests in ([\d.]+)(s|m)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": int(total.group(1)),
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "latency_ms": percentiles,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
    }


def wrk(url: str, *, duration: int, connections: int, threads: int, script: Path | None) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=True
    )
    return parse_wrk(done.stdout)


def lua_script(directory: Path, name: str, tokens: list[str]) -> Path:
    """A wrk script that sends the tokens in rotation."""
    listing = directory / f"{name}.txt"
    listing.write_text("\n".join(tokens) + "\n")
    script = directory / f"{name}.lua"
    script.write_text(
        "local tokens = {}\n"
        f'for line in io.lines("{listing}") do tokens[#tokens + 1] = line end\n'
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        '  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1]})\n'
        "end\n"
    )
    return script


def scenario(args, database_url: str, root: Path, path: str, warm_tokens: list[str],
             run_tokens: list[str], directory: Path) -> dict:  # fmt: skip
    """A 3 s warm-up on a server of its own, then the measured run on a fresh one."""
    name = f"{root.name}-{path.strip('/').replace('/', '-')}-{len(run_tokens)}"
    warm_script = lua_script(directory, f"warm-{name}", warm_tokens) if warm_tokens else None
    run_script = lua_script(directory, f"run-{name}", run_tokens) if run_tokens else None
    load = {"connections": args.connections, "threads": args.threads}
    server = Server(database_url, args.workers, root)
    try:
        wrk(server.url + path, duration=3, script=warm_script, **load)
    finally:
        server.stop()
    time.sleep(1)
    before = updates_to_tokens()
    server = Server(database_url, args.workers, root)
    try:
        figures = wrk(server.url + path, duration=args.duration, script=run_script, **load)
    finally:
        server.stop()
    time.sleep(1)
    figures["token_updates"] = updates_to_tokens() - before
    # At most one UPDATE per token per minute of the run.
    figures["token_updates_bound"] = len(run_tokens) * (args.duration // 60 + 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=200, help="tokens in the many-token scenario")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    parser.add_argument("--before", type=Path, help="another Tessera checkout, loaded the same way")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: `make loadtest` installs Debian's wrk when run as root.")

    trees = [("after", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
    database_url = fresh_database()
    # Warm-up and measured runs never share a token, so every measured token starts unused.
    per_tree = 2 * (args.tokens + 1)
    tokens = seed(database_url, per_tree * len(trees))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for n, (label, root) in enumerate(trees):
            mine = tokens[n * per_tree : (n + 1) * per_tree]
            warm, measured = mine[: args.tokens + 1], mine[args.tokens + 1 :]
            scenarios = [
                ("GET /healthz (no auth)", "/healthz", [], []),
                ("GET /api/v1/me, one token", "/api/v1/me", warm[:1], measured[:1]),
                (f"GET /api/v1/me, {args.tokens} tokens in rotation", "/api/v1/me",
                 warm[1:], measured[1:]),
            ]  # fmt: skip
            tree_results = [
                {"tree": label, "scenario": name, **scenario(args, database_url, root, path,
                 warm_tokens, run_tokens, directory)}
                for name, path, warm_tokens, run_tokens in scenarios
            ]  # fmt: skip
            healthz = tree_results[0]["requests_per_second"]
            for r in tree_results:
                r["share_of_healthz"] = r["requests_per_second"] / healthz
                print(
                    f"{label:6} {r['scenario']}: {r['requests_per_second']:.0f} req/s "
                    f"({r['share_of_healthz']:.0%} of /healthz), p50 {r['latency_ms']['50']:.2f} ms, "
                    f"p99 {r['latency_ms']['99']:.2f} ms, non-2xx {r['non_2xx']}, token UPDATEs "
                    f"{r['token_updates']} (bound {r['token_updates_bound']})"
                )
            results += tree_results

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(results, indent=2))
    lines = [
        "# Load test",
        "",
        "Made by `make loadtest` (`bench/loadtest.py`): gunicorn with "
        f"{args.workers} sync workers on loopback, DEBUG off, PostgreSQL {server_version}; "
        f"`wrk -t{args.threads} -c{args.connections} -d{args.duration}s` per scenario, after a 3 s "
        "warm-up on a separate server with separate tokens, on the same 2-core virtual machine as "
        "the client (so client and server share the CPUs). Every measured token starts unused.",
        "",
        "| Tessera | scenario | requests/s | share of /healthz | p50 ms | p75 ms | p90 ms | p99 ms | requests | non-2xx | UPDATEs to tokens (bound) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lat = r["latency_ms"]
        lines.append(
            f"| {r['tree']} | {r['scenario']} | {r['requests_per_second']:.0f} | "
            f"{r['share_of_healthz']:.0%} | "
            f"{lat['50']:.2f} | {lat['75']:.2f} | "
            f"{lat['90']:.2f} | {lat['99']:.2f} | {r['requests']:,} | {r['non_2xx']} | "
            f"{r['token_updates']} (≤ {r['token_updates_bound']}) |"
        )
    lines += [
        "",
        "Last use is written at most once a minute per token, by a conditional UPDATE: in a",
        f"{args.duration} s run each token is written once, however many requests it serves.",
        "",
    ]
    (args.out / "load.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
