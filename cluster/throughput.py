"""Throughput of GET /api/v1/me through the balancer with one, two and three app hosts (wrk)."""

import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

from . import stack
from .hosts import APPS, PORT, Cluster, pids, run

# Each request takes the next token, so that no token nears the per-token limit.
SCRIPT = """\
local tokens = {%s}
local i = 0
request = function()
  i = i %% #tokens + 1
  return wrk.format("GET", "/api/v1/me", {["Authorization"] = "Bearer " .. tokens[i]})
end
"""


def measure(cluster: Cluster, tokens: list[str], *, seconds: int = 8) -> dict[int, tuple]:
    """{hosts: (requests a second, p50 ms, p99 ms, non-2xx, {who: cores used})} with the other
    hosts disabled: where the machine's cores went tells what limits the figure."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is missing (make wrk installs it)")
    script = cluster.folder / "tokens.lua"
    script.write_text(SCRIPT % ", ".join(f'"{t}"' for t in tokens))
    found = {}
    for hosts in (1, 2, 3):
        for n in APPS:
            state = "enable" if n <= hosts else "disable"
            stack.balancer(cluster, f"{state} server apps/app{n}")
        warm = [wrk, "-t1", "-c4", "-d2s", "-s", str(script), f"http://127.0.0.1:{PORT}/api/v1/me"]
        subprocess.run(warm, capture_output=True, timeout=30, check=True)  # noqa: S603
        before, started = cpu_seconds(), time.monotonic()
        out = subprocess.run(  # noqa: S603
            [
                wrk,
                "-t2",
                "-c12",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{PORT}/api/v1/me",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50, p99 = (_ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in (50, 99))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        elapsed = time.monotonic() - started
        cores = {who: (spent - before[who]) / elapsed for who, spent in cpu_seconds().items()}
        found[hosts] = (rate, p50, p99, int(errors.group(1)) if errors else 0, cores)
    for n in APPS:
        stack.balancer(cluster, f"enable server apps/app{n}")
    return found


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def cpu_seconds() -> dict[str, float]:
    """CPU time so far of the app hosts, the data host, HAProxy and wrk (this process's
    finished children)."""
    tick = os.sysconf("SC_CLK_TCK")

    def spent(pid_list: list[int]) -> float:
        total = 0
        for pid in pid_list:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        return total / tick

    haproxy = [int(p) for p in run("pgrep", "-x", "haproxy", check=False).split()]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "app hosts": spent([pid for n in APPS for pid in pids(f"app{n}")]),
        "data host": spent(pids("data")),
        "HAProxy": spent(haproxy),
        "wrk": children.ru_utime + children.ru_stime,
    }
