"""Side-by-side auth benchmark: Tessera against DRF authtoken, knox and djangorestframework-api-key,
like for like.

Each stack runs in a process of its own (bench/worker.py): Tessera with its full production
stack (every middleware, DEBUG off, Redis rate limiting on, PostgreSQL), each peer in a minimal
Django project of its own with Django's default middleware, as its users run it. Every request
goes through the stack's full WSGI handler with no network in between, and each case is timed as
what it adds over a no-auth request to the same stack. One run interleaves every stack's cases
round by round, in a new shuffled order each round, so that machine drift hits them all alike.
`--before DIR` adds another checkout of Tessera (say, the commit before a change) to the same run.

    python bench/run.py --out docs/benchmarks/results.json [--before ../tessera-before]
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PEERS = ["drf-authtoken", "knox", "api-key"]
CASES = ["valid", "malformed", "unknown", "revoked"]


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fresh_database(name: str) -> str:
    import psycopg

    admin = os.environ.get("BENCH_PG_ADMIN_URL", PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return f"{admin.rsplit('/', 1)[0]}/{name}"


class Worker:
    def __init__(self, stack: str, root: Path, redis_db: int):
        self.stack = stack
        database = fresh_database(f"bench_{stack.replace('-', '_')}")
        redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
        (ROOT / "var").mkdir(exist_ok=True)
        # Its log (a line per refused request, as production writes) goes to a file of its own.
        self.log = open(ROOT / "var" / f"bench-{stack}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "worker.py"), "--stack", stack,
             "--root", str(root), "--db", database, "--redis", f"{redis}/{redis_db}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )  # fmt: skip
        self.cases = self.ask(op="cases")["cases"]

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.stack} worker stopped")
        return json.loads(line)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.log.close()


def expected(case: str) -> set[int]:
    return (
        {200} if case in ("none", "valid", "select-1", "mcp-personal", "mcp-oauth") else {401, 403}
    )


def summarize(samples: list[int]) -> dict:
    return {
        "n": len(samples),
        "median_us": statistics.median(samples) / 1000,
        "p95_us": percentile(samples, 0.95) / 1000,
        "p99_us": percentile(samples, 0.99) / 1000,
    }


def measure(workers: list[Worker], rounds: int, batch: int, seed: int = 7) -> dict:
    """Every stack's cases, round by round in a new shuffled order. Each case's batch is timed
    right after a batch of its stack's no-auth request, and its overhead is the median of those
    paired differences, so drift between rounds (a noisy neighbour, a busy database) cancels."""
    pairs = [(w, case) for w in workers for case in w.cases if case != "none"]
    for worker, case in [(w, "none") for w in workers] + pairs:
        status = worker.ask(op="status", case=case)["status"]
        assert status in expected(case), (worker.stack, case, status)
        worker.ask(op="time", case=case, n=max(50, batch // 2))  # warm-up
    samples: dict[tuple[str, str], list[int]] = {(w.stack, "none"): [] for w in workers}
    samples |= {(w.stack, c): [] for w, c in pairs}
    differences: dict[tuple[str, str], list[float]] = {(w.stack, c): [] for w, c in pairs}
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(pairs)
        for worker, case in pairs:
            base = worker.ask(op="time", case="none", n=batch)["samples"]
            timed = worker.ask(op="time", case=case, n=batch)["samples"]
            samples[(worker.stack, "none")] += base
            samples[(worker.stack, case)] += timed
            differences[(worker.stack, case)].append(
                (statistics.median(timed) - statistics.median(base)) / 1000
            )
    results = {}
    for worker in workers:
        results[worker.stack] = {"none": summarize(samples[(worker.stack, "none")])}
        for case in worker.cases:
            if case == "none":
                continue
            figures = summarize(samples[(worker.stack, case)])
            if case != "select-1":
                figures["overhead_median_us"] = statistics.median(differences[(worker.stack, case)])
                figures["queries"] = worker.ask(op="queries", case=case)["queries"]
            results[worker.stack][case] = figures
    return results


def machine() -> dict:
    import django
    import psycopg

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = {}
    for dist in ("djangorestframework", "django-rest-knox", "djangorestframework-api-key"):
        from importlib.metadata import version

        versions[dist] = version(dist)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.__version__,
        "psycopg": psycopg.__version__,
        **versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--before", type=Path, help="another Tessera checkout, timed beside")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    stacks = [("tessera", ROOT, 15)]
    if args.before:
        stacks.append(("tessera-before", args.before.resolve(), 14))
    workers = [Worker(name, root, db) for name, root, db in stacks]
    workers += [Worker(peer, ROOT, 13) for peer in PEERS]
    started = time.time()
    try:
        results = measure(workers, args.rounds, args.batch)
        shares = {
            w.stack: {
                case: w.ask(op="shares", case=case, n=2000)["shares"] for case in ("none", "valid")
            }
            for w in workers
            if w.stack.startswith("tessera")
        }
    finally:
        for worker in workers:
            worker.stop()
    output = {
        "seconds": round(time.time() - started, 1),
        "machine": machine(),
        "rounds": args.rounds,
        "batch": args.batch,
        "results": results,
        "middleware": shares,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, indent=2))
    for stack, cases in results.items():
        for case, r in cases.items():
            extra = ""
            if "overhead_median_us" in r:
                extra = f"  overhead {r['overhead_median_us']:7.1f}  queries {r['queries']}"
            print(
                f"{stack:15} {case:9} median {r['median_us']:8.1f} µs  p95 {r['p95_us']:8.1f}"
                + extra
            )


if __name__ == "__main__":
    main()
