"""Does a leak report's answer time say whether the reported token existed?

Serves Tessera with gunicorn (one sync worker, SQLite in a temporary directory, the console
email backend) on 127.0.0.1, mints live tokens, then reports them (`--batch` a report, 1 by
default) or as many well-formed unknown ones, in a shuffled order, and times each answer as a client sees it:
from opening the connection to the last byte of the 202. Prints the mean and standard deviation
of each and Welch's z for the difference; |z| ≤ 3 means the two cannot be told apart at this
sample size. A pause between requests lets the worker finish any work a report left it.

    .venv/bin/python bench/leak_timing.py [--n 300] [--batch 1] [--port 18517] [--root CHECKOUT]

`--root` serves another checkout (say, the commit before a change) with this virtualenv.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = "/api/v1/credentials/revoke"
SEED = """
import json, sys
from allauth.account.models import EmailAddress
from accounts.models import User
from orgs.models import Organization, Role
from orgs.services import membership_set
from tokens.services import token_create
user = User.objects.create_user(email="bench@example.com", password="bench-password-1")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
org = Organization.objects.create(name="Bench", slug="bench")
membership_set(user=user, organization=org, role=Role.OWNER)
secrets = [
    token_create(owner=user, organization=org, name=f"t{n}", scopes=["projects:read"])[1]
    for n in range(int(sys.argv[1]))
]
open(sys.argv[2], "w").write(json.dumps(secrets))
"""


def timed_report(port: int, tokens: list[str]) -> float:
    body = json.dumps({"credentials": tokens})
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", REPORT, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 202:
        raise SystemExit(f"expected 202, got {response.status}")
    return elapsed * 1000


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit("the server did not start")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer")


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:8} n={len(values)} mean={statistics.mean(values):.3f} ms "
        f"sd={statistics.stdev(values):.3f} ms median={statistics.median(values):.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="reports of each kind")
    parser.add_argument("--port", type=int, default=18517)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument(
        "--pause", type=float, default=0.03, help="seconds between reports (more for batches)"
    )
    parser.add_argument("--batch", type=int, default=1, help="tokens in each report")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(ROOT))
    from tokens import codec

    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3",
            "SECRET_KEY": "leak-timing-bench",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "CREDENTIAL_REPORTS_PER_MINUTE": "1000000",
            "AUTH_FAILURE_LIMIT_PER_MINUTE": "1000000",
            "PYTHONPATH": str(root),
        }
        manage = [python, str(root / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        secrets_file = f"{scratch}/secrets.json"
        seed = [*manage, "shell", "-c", SEED.replace("sys.argv[1]", str((args.n + 5) * args.batch))]
        seed[-1] = seed[-1].replace("sys.argv[2]", repr(secrets_file))
        subprocess.run(seed, env=env, check=True, stdout=subprocess.DEVNULL)
        live = json.loads(Path(secrets_file).read_text())
        gunicorn = Path(python).with_name("gunicorn")
        server = subprocess.Popen(
            [str(gunicorn), "config.wsgi", "-b", f"127.0.0.1:{args.port}", "-w", "1"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(args.port, server)

            def tokens(kind: str) -> list[str]:
                if kind == "live":
                    return [live.pop() for _ in range(args.batch)]
                return [codec.generate("pat") for _ in range(args.batch)]

            for _ in range(5):  # warm up: imports, templates, connections
                timed_report(args.port, tokens("live"))
                timed_report(args.port, tokens("unknown"))
                time.sleep(args.pause)
            plan = ["live"] * args.n + ["unknown"] * args.n
            random.shuffle(plan)
            times: dict[str, list[float]] = {"live": [], "unknown": []}
            for kind in plan:
                times[kind].append(timed_report(args.port, tokens(kind)))
                time.sleep(args.pause)
        finally:
            server.terminate()
            server.wait(timeout=30)
    a, b = times["live"], times["unknown"]
    z = (statistics.mean(a) - statistics.mean(b)) / (
        statistics.variance(a) / len(a) + statistics.variance(b) / len(b)
    ) ** 0.5
    served = "this checkout" if root == ROOT else "another checkout (--root)"
    print(f"served: {served}; {args.batch} token(s) a report")
    print(summary("live", a))
    print(summary("unknown", b))
    print(f"Welch z (live − unknown) = {z:.2f}")


if __name__ == "__main__":
    main()
