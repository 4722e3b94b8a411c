"""`python -m cluster up|down|status|test` (the Makefile's cluster, cluster-down, cluster-test)."""

import argparse
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from . import checks, hosts, stack, throughput
from .hosts import PORT, STATE, Cluster


def up() -> Cluster:
    if os.geteuid() != 0:
        sys.exit("The cluster makes network namespaces: run it as root.")
    down(quiet=True)
    hosts.install_missing()
    started = time.monotonic()
    cluster = Cluster.create()
    try:
        hosts.network_up()
        stack.up(cluster)
    except BaseException:  # Ctrl-C and the time limit too: leave nothing behind
        print(logs(cluster), file=sys.stderr)
        down()
        raise
    print(
        f"Cluster up in {time.monotonic() - started:.0f} s: http://127.0.0.1:{PORT} "
        f"(three app hosts behind HAProxy); logs in {cluster.folder}",
        flush=True,
    )
    return cluster


def down(*, quiet: bool = False) -> None:
    """Every process, namespace and folder the cluster made, whether or not it is whole."""
    cluster = Cluster.load()
    stack.balancer_down()
    if cluster is not None and (cluster.folder / "pg" / "data" / "postmaster.pid").exists():
        stack.pg_stop(cluster, mode="immediate", check=False)  # its shared memory goes with it
    hosts.network_down()
    if cluster is not None:
        shutil.rmtree(cluster.folder, ignore_errors=True)
        STATE.unlink(missing_ok=True)
    if not quiet:
        print("Cluster down: no process, namespace or folder of it is left.")


def logs(cluster: Cluster, lines: int = 30) -> str:
    """The end of every log, for a failure's report."""
    parts = []
    for path in [*sorted(cluster.folder.glob("*.log")), cluster.folder / "pg" / "postgres.log"]:
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(parts)


def test(out: Path | None = None) -> None:
    cluster = up()
    try:
        checks.django_setup(cluster)
        fx = checks.people()
        stack.wait_until(checks.queue_empty, timeout=120, what="the set-up's emails sent")
        for check in (checks.check_limit, checks.check_revocation):
            print(f"== {check.__doc__.splitlines()[0]}", flush=True)
            check(fx)
        for check in (
            checks.check_worker_killed,
            checks.check_host_killed,
            checks.check_redis_stopped,
            checks.check_database_restarted,
        ):
            print(f"== {check.__doc__.splitlines()[0]}", flush=True)
            check(cluster, fx)
        print("== GET /api/v1/me through the balancer (wrk, 2 threads, 12 connections)")
        for n, (rate, p50, p99, errors, cores) in throughput.measure(cluster, fx.tokens).items():
            spent = ", ".join(f"{who} {used:.2f}" for who, used in cores.items())
            checks.say(
                f"Throughput with {n} app host(s)",
                f"{rate:,.0f} requests/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} non-2xx; "
                f"cores used: {spent} (of {os.cpu_count()})",
            )
    except Exception:
        traceback.print_exc()
        print(logs(cluster), file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        down()
    print("\n== Cluster figures")
    for what, figure in checks.FIGURES:
        print(f"- {what}: {figure}")
    if out is not None:
        out.write_text(report(checks.FIGURES))
        print(f"(written to {out.name})")


def report(figures: list[tuple[str, str]]) -> str:
    """The figures as Markdown, for docs/benchmarks/cluster.md."""
    lines = [
        "# The cluster under failures",
        "",
        f"Made by `make cluster-test` (`cluster/checks.py`) on {time.strftime('%Y-%m-%d')}, on "
        f"one machine of {os.cpu_count()} cores: three app hosts (gunicorn, 2 workers each, and a "
        "task worker), a data host (PostgreSQL behind PgBouncer in transaction mode, Redis) and "
        'HAProxy, in network namespaces. README, "A cluster on one machine", says what each '
        "check does.",
        "",
        *(f"- **{what}:** {figure}" for what, figure in figures),
        "",
    ]
    return "\n".join(lines)


def status() -> None:
    cluster = Cluster.load()
    if cluster is None:
        print("No cluster is up (make cluster starts one).")
        return
    print(f"http://127.0.0.1:{PORT}; logs in {cluster.folder}")
    for name, state in stack.servers_up(cluster).items():
        print(f"  {name}: {state}")


def main() -> None:
    # The time limit's SIGTERM unwinds like Ctrl-C, through the `finally` that removes the cluster.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "test"])
    parser.add_argument("--out", type=Path, help="test: write the figures there as Markdown")
    arguments = parser.parse_args()
    command = arguments.command
    if command == "up":
        cluster = up()
        print(
            f"Sign up at http://127.0.0.1:{PORT}/accounts/signup/: the cluster's mail server "
            f"keeps every email (the verification link too) in {cluster.folder / 'mail'}.\n"
            f"`make cluster-test` checks it under failures; `make cluster-down` removes it all."
        )
    elif command == "down":
        down()
    elif command == "status":
        status()
    else:
        test(arguments.out)


if __name__ == "__main__":
    main()
