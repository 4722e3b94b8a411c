"""Side-by-side auth benchmark: Tessera against DRF authtoken, knox and api-key.

Every request goes through Django's full WSGI handler and middleware stack, in this process,
with no network in between, so the figures are the cost of authentication itself. Cases are
interleaved round by round (in a shuffled order) so that machine drift hits them all alike.

    python -m bench.run --db postgres --out docs/benchmarks/results-postgres.json
"""

import argparse
import io
import json
import os
import random
import secrets
import statistics
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def prepare_database(db: str) -> None:
    """Point the benchmark at a fresh, empty database before Django starts."""
    if db == "postgres":
        import psycopg

        name = "tessera_bench"
        with psycopg.connect(
            os.environ.get("BENCH_PG_ADMIN_URL", PG_ADMIN_URL), autocommit=True
        ) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {name}")
        base = os.environ.get("BENCH_PG_ADMIN_URL", PG_ADMIN_URL).rsplit("/", 1)[0]
        os.environ["BENCH_DATABASE_URL"] = f"{base}/{name}"
    else:
        path = ROOT / "var" / "bench.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Wsgi:
    """Calls Django's WSGIHandler directly with a minimal GET environ."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, authorization: str | None) -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_USER_AGENT": "tessera-bench",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if authorization is not None:
            environ["HTTP_AUTHORIZATION"] = authorization
        status = []
        body = self.handler(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(body)
        body.close()
        return int(status[0][:3])


def make_cases() -> list[dict]:
    """Create the users and credentials, and return the cases to time."""
    from allauth.account.models import EmailAddress
    from knox.models import AuthToken
    from rest_framework.authtoken.models import Token as DrfToken
    from rest_framework_api_key.models import APIKey

    from accounts.models import User
    from orgs.models import Role
    from orgs.services import membership_set, organization_create
    from tokens import codec
    from tokens.permissions import READ_WRITE
    from tokens.services import token_create, token_revoke

    user = User.objects.create_user(email="bench@example.com", password=None)

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    org = organization_create(name="Bench", owner=user)
    membership_set(user=user, organization=org, role=Role.OWNER)
    _, tessera_valid = token_create(
        owner=user, organization=org, name="valid", scopes=sorted(READ_WRITE)
    )
    revoked, tessera_revoked = token_create(
        owner=user, organization=org, name="revoked", scopes=["tasks:read"]
    )
    token_revoke(token=revoked, by=user)

    drf_key = DrfToken.objects.create(user=user).key
    _, knox_valid = AuthToken.objects.create(user=user)
    knox_revoked_obj, knox_revoked = AuthToken.objects.create(user=user)
    knox_revoked_obj.delete()  # knox revokes by deleting
    _, apikey_valid = APIKey.objects.create_key(name="valid")
    revoked_key, apikey_revoked = APIKey.objects.create_key(name="revoked")
    revoked_key.revoked = True
    revoked_key.save()
    prefix, _, rest = apikey_valid.partition(".")

    def rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(n))

    hexdigits = "0123456789abcdef"
    cases = [
        ("baseline", "none", "/bench/plain", None),
        ("tessera", "valid", "/api/bench/tessera", f"Bearer {tessera_valid}"),
        ("tessera", "valid+limit", "/api/bench/tessera", f"Bearer {tessera_valid}"),
        ("tessera", "malformed", "/api/bench/tessera", "Bearer not-a-token"),
        ("tessera", "unknown", "/api/bench/tessera", f"Bearer {codec.generate('pat')}"),
        ("tessera", "revoked", "/api/bench/tessera", f"Bearer {tessera_revoked}"),
        ("drf-baseline", "none", "/bench/drf/none", None),
        ("drf-authtoken", "valid", "/bench/drf/authtoken", f"Token {drf_key}"),
        ("drf-authtoken", "malformed", "/bench/drf/authtoken", "Token not a token"),
        ("drf-authtoken", "unknown", "/bench/drf/authtoken", f"Token {rand(40, hexdigits)}"),
        ("knox", "valid", "/bench/drf/knox", f"Token {knox_valid}"),
        ("knox", "malformed", "/bench/drf/knox", "Token not a token"),
        ("knox", "unknown", "/bench/drf/knox", f"Token {rand(len(knox_valid), hexdigits)}"),
        ("knox", "revoked", "/bench/drf/knox", f"Token {knox_revoked}"),
        ("api-key", "valid", "/bench/drf/apikey", f"Api-Key {apikey_valid}"),
        ("api-key", "malformed", "/bench/drf/apikey", "Api-Key not-a-key"),
        (
            "api-key",
            "unknown",
            "/bench/drf/apikey",
            f"Api-Key {rand(len(prefix))}.{rand(len(rest))}",
        ),
        ("api-key", "revoked", "/bench/drf/apikey", f"Api-Key {apikey_revoked}"),
    ]
    return [
        {
            "scheme": s,
            "case": c,
            "path": p,
            "authorization": a,
            "baseline": "drf-baseline" if s in {"drf-authtoken", "knox", "api-key"} else "baseline",
        }
        for s, c, p, a in cases
    ], {"user": user, "org": org}


def expected_status(case: dict) -> set[int]:
    if case["case"] in {"none", "valid", "valid+limit"}:
        return {200}
    return {401, 403}


# Far above what a benchmark sends in a minute: the counter always runs, never trips.
LIMIT_ON = 10**9


def runner(wsgi: "Wsgi", case: dict):
    """The request a case times. "valid+limit" turns the per-token rate limit on around it (a
    settings attribute, so the switch itself costs nanoseconds)."""
    from django.conf import settings

    path, authorization = case["path"], case["authorization"]
    if case["case"] != "valid+limit":
        return lambda: wsgi.get(path, authorization)

    def limited():
        settings.API_RATE_LIMIT_PER_MINUTE = LIMIT_ON
        try:
            return wsgi.get(path, authorization)
        finally:
            settings.API_RATE_LIMIT_PER_MINUTE = 0

    return limited


def count_queries(wsgi: Wsgi, case: dict) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        runner(wsgi, case)()
    return len(queries)


def select_one_case() -> dict:
    """The physical floor: one raw `SELECT 1` round trip through the same connection."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return {"scheme": "select-1", "case": "floor", "run": run}


def time_cases(wsgi: Wsgi, cases: list[dict], rounds: int, batch: int, seed: int = 7) -> None:
    """Time every case `rounds` × `batch` times, visiting the cases in a new order each round."""
    rng = random.Random(seed)
    for case in cases:
        if "run" not in case:
            case["run"] = runner(wsgi, case)
            status = case["run"]()
            assert status in expected_status(case), (case["scheme"], case["case"], status)
        for _ in range(max(50, batch // 2)):  # warm-up: caches, prepared statements
            case["run"]()
        case["samples"] = []
    order = list(cases)
    clock = time.perf_counter_ns
    for _ in range(rounds):
        rng.shuffle(order)
        for case in order:
            run, samples = case["run"], case["samples"]
            for _ in range(batch):
                start = clock()
                run()
                samples.append(clock() - start)


def summarize(samples: list[int]) -> dict:
    return {
        "n": len(samples),
        "median_us": statistics.median(samples) / 1000,
        "p95_us": percentile(samples, 0.95) / 1000,
        "p99_us": percentile(samples, 0.99) / 1000,
    }


def bulk_load_tokens(*, owner, organization, total: int) -> None:
    """Top the tokens table up to `total` rows with COPY (PostgreSQL only)."""
    from django.db import connection

    from tokens import codec
    from tokens.models import Token

    have = Token.objects.count()
    if have >= total:
        return
    table = Token._meta.db_table
    now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    columns = "(kind, client, owner_id, organization_id, name, description, digest, prefix, scopes, all_projects, created_at, last_used_user_agent)"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} {columns} FROM STDIN") as copy:
            for n in range(have, total):
                value = codec.generate("pat")
                copy.write_row(
                    (
                        "pat",
                        "",
                        owner.pk,
                        organization.pk,
                        f"filler {n}",
                        "",
                        codec.digest(value),
                        value[:14],
                        '["tasks:read"]',
                        True,
                        now,
                        "",
                    )
                )
        # Vacuumed now (outside a transaction, as VACUUM must be), so autovacuum does not wake
        # up during the timed rounds that follow.
        cursor.execute(
            f"VACUUM ANALYZE {table}" if connection.get_autocommit() else f"ANALYZE {table}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=150)
    parser.add_argument("--scale", default="1000,100000,1000000", help="token counts (PostgreSQL)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    prepare_database(args.db)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    cases, world = make_cases()
    wsgi = Wsgi()
    started = time.time()
    floor_case = select_one_case()
    time_cases(wsgi, [*cases, floor_case], rounds=args.rounds, batch=args.batch)
    baselines = {c["scheme"]: summarize(c["samples"]) for c in cases if c["case"] == "none"}
    results = []
    for case in cases:
        summary = summarize(case["samples"])
        base = baselines[case["baseline"]]
        results.append(
            {
                "scheme": case["scheme"],
                "case": case["case"],
                **summary,
                "queries": count_queries(wsgi, case),
                "overhead_median_us": summary["median_us"] - base["median_us"],
                "overhead_p95_us": summary["p95_us"] - base["p95_us"],
            }
        )
    floor = summarize(floor_case["samples"])

    scale = []
    if args.db == "postgres" and args.scale:
        valid = next(c for c in cases if c["scheme"] == "tessera" and c["case"] == "valid")
        baseline = next(c for c in cases if c["scheme"] == "baseline")
        for total in [int(n) for n in args.scale.split(",")]:
            t0 = time.time()
            bulk_load_tokens(owner=world["user"], organization=world["org"], total=total)
            load_s = time.time() - t0
            time_cases(
                wsgi,
                [baseline, valid, floor_case],
                rounds=max(4, args.rounds // 2),
                batch=args.batch,
            )
            v, b = summarize(valid["samples"]), summarize(baseline["samples"])
            scale.append(
                {
                    "tokens": total,
                    "load_seconds": round(load_s, 1),
                    **v,
                    "overhead_median_us": v["median_us"] - b["median_us"],
                    "select_one_median_us": summarize(floor_case["samples"])["median_us"],
                }
            )
            print(
                f"  {total:>9,} tokens: median {v['median_us']:.1f} µs (loaded in {load_s:.1f} s)"
            )

    import platform

    import django as dj
    import knox
    import psycopg
    import rest_framework
    import rest_framework_api_key

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if args.db == "postgres" else "SELECT sqlite_version()")
        server = cursor.fetchone()[0]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    output = {
        "db": args.db,
        "server": server.split(" on ")[0],
        "seconds": round(time.time() - started, 1),
        "machine": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "django": dj.__version__,
            "psycopg": psycopg.__version__,
            "djangorestframework": rest_framework.__version__,
            "django-rest-knox": getattr(knox, "__version__", "5"),
            "djangorestframework-api-key": getattr(rest_framework_api_key, "__version__", "3"),
        },
        "rounds": args.rounds,
        "batch": args.batch,
        "select_one": floor,
        "results": results,
        "scale": scale,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, indent=2))
    for r in results:
        print(
            f"{args.db:8} {r['scheme']:14} {r['case']:9} median {r['median_us']:8.1f} µs  "
            f"p95 {r['p95_us']:8.1f}  p99 {r['p99_us']:8.1f}  overhead {r['overhead_median_us']:7.1f}  "
            f"queries {r['queries']}"
        )
    print(f"{args.db:8} select 1 round trip: median {floor['median_us']:.1f} µs")


if __name__ == "__main__":
    main()
