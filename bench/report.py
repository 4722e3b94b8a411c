"""Turn a bench run into docs/benchmarks/auth.md and auth.png, and print its targets.

python -m bench.report docs/benchmarks/results.json
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"
PEERS = ["drf-authtoken", "knox", "api-key"]
CASES = ["valid", "malformed", "unknown", "revoked"]
TARGET_SHARE = 0.35


def overhead(run: dict, stack: str, case: str = "valid") -> float:
    return run["results"][stack][case]["overhead_median_us"]


def targets(run: dict) -> list[tuple[str, str, bool]]:
    """(target, figure, met) for Tessera's valid-token request."""
    mine, drf = overhead(run, "tessera"), overhead(run, "drf-authtoken")
    rows = [
        (
            f"valid-token overhead ≤ {TARGET_SHARE}× DRF authtoken's",
            f"{mine:.0f} µs vs {drf:.0f} µs ({mine / drf:.2f}×)",
            mine <= TARGET_SHARE * drf,
        )
    ]
    for peer in PEERS[1:]:
        theirs = overhead(run, peer)
        rows.append((f"below {peer}'s", f"{mine:.0f} µs vs {theirs:.0f} µs", mine < theirs))
    queries = run["results"]["tessera"]["malformed"]["queries"]
    rows.append(("0 queries for a malformed token", f"{queries} queries", queries == 0))
    if "tessera-before" in run["results"]:
        before = overhead(run, "tessera-before")
        rows.append(
            (
                "no dearer than the commit before",
                f"{mine:.0f} µs vs {before:.0f} µs ({before / drf:.2f}× DRF's before)",
                mine <= before,
            )
        )
    return rows


NOISE_US = 50


def result_rows(run: dict) -> list[str]:
    lines = [
        "| stack | case | median µs | p95 µs | p99 µs | queries | overhead µs | × DRF authtoken's |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    drf = {case: run["results"]["drf-authtoken"].get(case) for case in CASES}
    for stack, cases in run["results"].items():
        for case, r in cases.items():
            if case == "select-1":
                continue
            spent = r.get("overhead_median_us")
            against = drf.get(case)
            # A ratio of two figures inside the timing noise (a malformed header costs a few
            # microseconds everywhere but api-key) would say nothing.
            meaningful = spent is not None and against and against["overhead_median_us"] >= NOISE_US
            share = f"{spent / against['overhead_median_us']:.2f}" if meaningful else ""
            lines.append(
                f"| {stack} | {case} | {r['median_us']:.0f} | {r['p95_us']:.0f} | "
                f"{r['p99_us']:.0f} | {r.get('queries', '')} | "
                f"{'' if spent is None else f'{spent:.0f}'} | {share} |"
            )
    return lines


def middleware_rows(run: dict) -> list[str]:
    lines = []
    for stack, cases in run["middleware"].items():
        valid, none = cases["valid"], cases["none"]
        total = sum(valid.values())
        lines += [
            "",
            f"**{stack}**: {total:.0f} µs a valid-token request, {sum(none.values()):.0f} µs "
            "one without a token.",
            "",
            "| layer | valid token µs | share | no token µs |",
            "|---|---:|---:|---:|",
        ]
        for name in sorted(valid, key=lambda n: -valid[n]):
            lines.append(
                f"| {name} | {valid[name]:.1f} | {valid[name] / total:.0%} | "
                f"{none.get(name, 0):.1f} |"
            )
    return lines


def markdown(run: dict) -> str:
    m = run["machine"]
    select_one = run["results"]["tessera"]["select-1"]["median_us"]
    lines = [
        "# Auth benchmark: Tessera against DRF authtoken, knox and api-key, like for like",
        "",
        "Made by `make bench` (`bench/run.py`, then `bench/report.py`). Each stack runs in a",
        "process of its own: Tessera with its full production stack (every middleware, DEBUG off,",
        "`TESSERA_PRODUCTION`, Redis counting the per-token rate limit, PostgreSQL), each peer in a",
        "minimal Django project of its own with the middleware `startproject` writes, as its users",
        "run it. Every request goes through its stack's whole WSGI handler with no network in",
        "between. A case's **overhead** is what it adds over a request without a token to the same",
        "stack, timed as pairs (a batch without, then a batch with) so drift cancels; all stacks'",
        "cases are interleaved in one run, round by round in a shuffled order.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores (a virtual machine shared with the database,",
        f"Redis and the driver). Python {m['python']}, Django {m['django']}, psycopg",
        f"{m['psycopg']}, djangorestframework {m['djangorestframework']}, django-rest-knox",
        f"{m['django-rest-knox']}, djangorestframework-api-key {m['djangorestframework-api-key']}.",
        f"{run['rounds']} rounds × {run['batch']} requests per case and stack; one `SELECT 1` round",
        f"trip from Tessera's process: median {select_one:.0f} µs.",
        "",
        "![Auth overhead per stack and case](auth.png)",
        "",
        "## Targets (valid token)",
        "",
        "| target | figure | |",
        "|---|---|---|",
        *[f"| {t} | {f} | {'met' if ok else '**missed**'} |" for t, f, ok in targets(run)],
        "",
        "## Every case",
        "",
        *result_rows(run),
        "",
        "## Where Tessera's time goes",
        "",
        "Each layer's own time (its time minus what it calls), median of 2,000 requests, measured",
        "apart from the run above with every layer wrapped in a timer (which adds a little to",
        "each). `the view` includes URL resolution and Django's own request handling.",
        *middleware_rows(run),
        "",
        "Revoked for DRF authtoken is absent: it revokes by deleting the row, which is the unknown",
        "case; knox revokes by deleting too. A malformed DRF or knox header is refused by its",
        "parser before a query; api-key queries for any shape.",
        "",
    ]
    return "\n".join(lines)


def chart(run: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stacks = list(run["results"])
    colors = {
        "valid": "#4f46e5",
        "malformed": "#a5b4fc",
        "unknown": "#f59e0b",
        "revoked": "#ef4444",
    }
    width = 0.2
    fig, ax = plt.subplots(figsize=(9, 4.6))
    for i, case in enumerate(CASES):
        values = [
            max(run["results"][s].get(case, {}).get("overhead_median_us", 0), 0) for s in stacks
        ]
        positions = [x + (i - (len(CASES) - 1) / 2) * width for x in range(len(stacks))]
        ax.bar(positions, values, width, label=case, color=colors[case])
    ax.set_xticks(range(len(stacks)), stacks)
    ax.set_ylabel("overhead over a request without a token, median µs")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Per-request cost of authentication, each stack as it runs (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    run = json.loads(Path(sys.argv[1]).read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "auth.md").write_text(markdown(run))
    chart(run, OUT / "auth.png")
    for name, figure, met in targets(run):
        print(f"{'MET   ' if met else 'MISSED'} {name}: {figure}")


if __name__ == "__main__":
    main()
