"""Throughput of GET /api/v1/me through the balancer with one, two and three app hosts (wrk)."""

import re
import shutil
import subprocess

from . import stack
from .hosts import APPS, PORT, Cluster

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
    """{hosts: (requests a second, p50 ms, p99 ms, non-2xx)} with the other hosts disabled."""
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
        found[hosts] = (rate, p50, p99, int(errors.group(1)) if errors else 0)
    for n in APPS:
        stack.balancer(cluster, f"enable server apps/app{n}")
    return found


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
