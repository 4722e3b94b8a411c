"""The figures behind docs/scaling.md: what one authenticated request costs, measured.

1. The auth query at size: `--tokens` synthetic tokens (with users, organizations, memberships
   and second factors in proportion) are loaded in bulk with INSERT ... SELECT generate_series,
   secondary indexes dropped during the load and rebuilt from their own definitions after it.
   Then the table and index sizes, EXPLAIN (ANALYZE, BUFFERS) of the middleware's own SQL
   (tokens.authentication._AUTH_SQL), and its latency over random lookups from psycopg, prepared
   as the middleware prepares it and unprepared as behind a pooler without prepared statements.
2. Redis round trips per request, counted by wrapping redis-py's connection, for requests to
   /api/v1/me through Django's full handler (every middleware, DEBUG off) at several per-token
   limits; the loopback round trip; MEMORY USAGE of the rate-limit keys.
3. Last-used writes: UPDATEs on the tokens table per token over simulated minutes (time-machine),
   and the cost of one such UPDATE on the loaded table (latency, HOT share, WAL bytes).
4. Audit rows per request type, and the bytes an audit row takes with its indexes.

The database must be a scratch one of your own: the synthetic rows are loaded into it and the
script refuses a database that holds users of anyone else. Redis: one database (db 9 by
default), flushed at the start.

    createdb -h 127.0.0.1 -U postgres scaling
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scaling \\
        .venv/bin/python -m bench.scaling --tokens 1000000 --out docs/benchmarks/scaling-1m.json
"""

import argparse
import hashlib
import json
import logging
import os
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_DOMAIN = "scaling.invalid"
ROLES = ["member", "member", "member", "viewer", "admin"]


def setup(database_url: str, redis_url: str) -> None:
    """Tessera's own settings, DEBUG off, Redis for the counters; requests come from the test
    client, so its host is allowed."""
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.pop("EMAIL_HOST", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentiles(samples_ns: list[int]) -> dict:
    ordered = sorted(samples_ns)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000, 1)

    return {
        "n": len(ordered),
        "median_us": round(statistics.median(ordered) / 1000, 1),
        "p90_us": at(0.90),
        "p99_us": at(0.99),
        "max_us": round(ordered[-1] / 1000, 1),
    }


def synthetic_digest(n: int) -> str:
    """The digest of synthetic token n: SHA-256 hex, the shape tokens.codec.digest gives."""
    return hashlib.sha256(f"scaling-{n}".encode()).hexdigest()


# 1. The auth query at size.


def raw_connection(*, prepare_threshold: int | None = 2):
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params, autocommit=True, prepare_threshold=prepare_threshold)


def refuse_foreign_database(cur) -> None:
    """Stop unless the database is empty or holds only this script's synthetic people: it is
    checked before anything is migrated, loaded or flushed."""
    cur.execute("SELECT to_regclass('accounts_user') IS NOT NULL")
    if not cur.fetchone()[0]:
        return  # a fresh database
    cur.execute(
        "SELECT count(*) FROM accounts_user WHERE email NOT LIKE %s", [f"%@{SYNTHETIC_DOMAIN}"]
    )
    (foreign,) = cur.fetchone()
    if foreign:
        sys.exit(f"This database holds {foreign} real users: use a scratch database of your own.")


@contextmanager
def without_secondary_indexes(cur, table: str):
    """Drop `table`'s unique constraints and secondary indexes, and rebuild them from their own
    definitions afterwards: a bulk load then writes the heap once and sorts each index once."""
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'u'",
        [table],
    )
    constraints = cur.fetchall()
    for name, _ in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        [table],
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    yield
    for _, definition in indexes:
        cur.execute(definition)
    for name, definition in constraints:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def load(cur, *, tokens: int, tokens_per_user: int, users_per_org: int, fillfactor: int) -> dict:
    """Synthetic organizations, users (one membership each), second factors for the users of
    organizations that require them, and tokens: ids 1..n, as a fresh database numbers them."""
    users = max(1, tokens // tokens_per_user)
    orgs = max(1, users // users_per_org)
    timings = {}
    # The rows are consistent by construction; the deferred foreign-key triggers would check
    # each one again. A superuser's session may skip them (as pg_restore does).
    cur.execute("SET session_replication_role = replica")
    cur.execute("SET maintenance_work_mem = '512MB'")
    if fillfactor != 100:  # room in each page for a HOT update (docs/scaling.md)
        cur.execute(f"ALTER TABLE tokens_token SET (fillfactor = {int(fillfactor)})")
    steps = [
        (
            "orgs_organization",
            "INSERT INTO orgs_organization (id, name, slug, created_at, require_two_factor,"
            " allow_no_expiry, require_agent_connections, allow_oauth_agents, oauth_clients)"
            " SELECT g, 'Organization ' || g, 'org-' || g, now() - interval '400 days',"
            " g %% 10 = 0, true, false, true, '' FROM generate_series(1, %(orgs)s) g",
        ),
        (
            "accounts_user",
            "INSERT INTO accounts_user (id, password, is_superuser, email, name, is_active,"
            " is_staff, date_joined, token_expiry_reminders)"
            f" SELECT g, '!', false, 'user' || g || '@{SYNTHETIC_DOMAIN}', 'User ' || g,"
            " true, false, now() - interval '400 days', true"
            " FROM generate_series(1, %(users)s) g",
        ),
        (
            "orgs_membership",
            "INSERT INTO orgs_membership (id, role, created_at, user_id, organization_id)"
            " SELECT g, (ARRAY['member','member','member','viewer','admin'])[1 + g %% 5],"
            " now() - interval '400 days', g, 1 + (g - 1) %% %(orgs)s"
            " FROM generate_series(1, %(users)s) g",
        ),
        (
            "mfa_authenticator",
            "INSERT INTO mfa_authenticator (type, data, user_id, created_at)"
            " SELECT 'totp', '{}'::jsonb, g, now() FROM generate_series(1, %(users)s) g"
            " WHERE (1 + (g - 1) %% %(orgs)s) %% 10 = 0",
        ),
        # Token n belongs to user 1 + (n - 1) % users, in that user's organization; one in five
        # is an agent connection; one in twenty is revoked; half expire, half were used.
        (
            "tokens_token",
            "INSERT INTO tokens_token (id, kind, name, description, digest, prefix, scopes,"
            " all_projects, created_at, expires_at, last_used_at, last_used_ip,"
            " last_used_user_agent, revoked_at, organization_id, owner_id, created_by_id,"
            " client, allowed_ips, rotated_itself, audience)"
            " SELECT g, CASE WHEN g %% 5 = 0 THEN 'agt' ELSE 'pat' END, 'token ' || g, '', d,"
            " CASE WHEN g %% 5 = 0 THEN 'tsr_agt_' ELSE 'tsr_pat_' END || left(d, 4),"
            ' \'["projects:read", "tasks:read", "tasks:write"]\'::jsonb, true,'
            " now() - (g %% 365) * interval '1 day',"
            " CASE WHEN g %% 2 = 0 THEN now() + (g %% 90) * interval '1 day' END,"
            " CASE WHEN g %% 2 = 1 THEN now() - (g %% 30) * interval '1 day' END,"
            " CASE WHEN g %% 2 = 1 THEN '192.0.2.1'::inet END,"
            " CASE WHEN g %% 2 = 1 THEN 'tessera-cli/1.0' ELSE '' END,"
            " CASE WHEN g %% 20 = 0 THEN now() - interval '1 day' END,"
            " 1 + ((g - 1) %% %(users)s) %% %(orgs)s, 1 + (g - 1) %% %(users)s,"
            " 1 + (g - 1) %% %(users)s, CASE WHEN g %% 5 = 0 THEN 'claude-code' ELSE '' END,"
            " '', false, ''"
            " FROM generate_series(1, %(tokens)s) g,"
            " LATERAL encode(sha256(convert_to('scaling-' || g, 'UTF8')), 'hex') d",
        ),
    ]
    for table, sql in steps:
        started = time.monotonic()
        with without_secondary_indexes(cur, table):
            cur.execute(sql, {"orgs": orgs, "users": users, "tokens": tokens})
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
        cur.execute(f"VACUUM (ANALYZE) {table}")
        timings[table] = round(time.monotonic() - started, 1)
        print(f"  loaded {table} in {timings[table]} s", flush=True)
    cur.execute("RESET session_replication_role")
    return {"organizations": orgs, "users": users, "tokens": tokens, "load_seconds": timings}


def sizes(cur) -> dict:
    def size(sql: str) -> int:
        cur.execute(sql)
        return cur.fetchone()[0]

    out = {
        "tokens_table_bytes": size("SELECT pg_relation_size('tokens_token')"),
        "tokens_indexes_bytes": size("SELECT pg_indexes_size('tokens_token')"),
        "digest_index_bytes": size("SELECT pg_relation_size('token_digest_unique')"),
        "tokens_rows": size("SELECT count(*) FROM tokens_token"),
        "joined_tables_total_bytes": size(
            "SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY['accounts_user',"
            " 'orgs_organization', 'orgs_membership', 'mfa_authenticator']::regclass[]) t"
        ),
        "shared_buffers": size("SELECT current_setting('shared_buffers')"),
        "server_version": size("SELECT current_setting('server_version')"),
    }
    cur.execute(
        "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes"
        " WHERE relname = 'tokens_token' ORDER BY 2 DESC"
    )
    out["tokens_index_bytes"] = dict(cur.fetchall())
    return out


def explain(cur_client, digest: str) -> str:
    from tokens.authentication import _AUTH_SQL

    cur_client.execute("EXPLAIN (ANALYZE, BUFFERS) " + _AUTH_SQL, [digest])
    return "\n".join(row[0] for row in cur_client.fetchall())


def digest_index_blocks(cur) -> tuple[int, int]:
    cur.execute("SELECT pg_stat_clear_snapshot()")
    cur.execute(
        "SELECT idx_blks_hit, idx_blks_read FROM pg_statio_user_indexes"
        " WHERE indexrelname = 'token_digest_unique'"
    )
    return cur.fetchone()


def time_lookups(conn, digests: list[str], *, prepare: bool) -> list[int]:
    from tokens.authentication import _AUTH_SQL

    cur = conn.cursor()
    samples = []
    for digest in digests:
        started = time.perf_counter_ns()
        cur.execute(_AUTH_SQL, [digest], prepare=prepare)
        cur.fetchone()
        samples.append(time.perf_counter_ns() - started)
    return samples


def measure_auth_query(total: int, lookups: int, rng: random.Random) -> dict:
    import psycopg

    admin = raw_connection()
    cur = admin.cursor()
    out = {"sizes": sizes(cur)}
    known = [synthetic_digest(rng.randint(1, total)) for _ in range(lookups)]
    unknown = [hashlib.sha256(rng.randbytes(16)).hexdigest() for _ in range(lookups // 10)]
    out["explain_first_lookup"] = explain(psycopg.ClientCursor(admin), known[0])
    out["explain_repeat_lookup"] = explain(psycopg.ClientCursor(admin), known[0])
    conn = raw_connection()
    time_lookups(conn, known[:200], prepare=True)  # a warm-up of the connection and plan
    before = digest_index_blocks(cur)
    prepared = time_lookups(conn, known, prepare=True)
    time.sleep(1.2)  # a backend publishes its statistics at most once a second
    conn.execute("SELECT 1")
    time.sleep(0.2)
    after = digest_index_blocks(cur)
    hits, reads = after[0] - before[0], after[1] - before[1]
    out["lookup_prepared"] = percentiles(prepared)
    out["lookup_prepared_second_pass"] = percentiles(time_lookups(conn, known, prepare=True))
    out["lookup_unprepared"] = percentiles(time_lookups(conn, known[: lookups // 5], prepare=False))
    out["lookup_unknown_prepared"] = percentiles(time_lookups(conn, unknown, prepare=True))
    out["digest_index_blocks_first_pass"] = {
        "hit_in_shared_buffers": hits,
        "read_from_os": reads,
        "hit_share": round(hits / max(1, hits + reads), 3),
    }
    conn.execute("SELECT 1")
    conn.close()
    admin.close()
    return out


def pgbench_throughput(total: int, seconds: int) -> dict | None:
    """The auth query's throughput on this server: pgbench with 4 clients on 2 threads, each
    transaction one lookup of a random loaded token (its digest computed in SQL); prepared (as
    the middleware runs it) and not (as behind a pooler that cannot carry prepared statements)."""
    import shutil
    import subprocess
    import tempfile

    from django.db import connection

    from tokens.authentication import _AUTH_SQL

    if shutil.which("pgbench") is None:
        return None
    params = connection.get_connection_params()
    digest = "encode(sha256(convert_to('scaling-' || :n, 'UTF8')), 'hex')"
    script = f"\\set n random(1, {total})\n" + _AUTH_SQL.replace("%s", digest) + ";\n"
    out: dict = {"clients": 4, "threads": 2, "seconds": seconds}
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as file:
        file.write(script)
        file.flush()
        for mode in ("prepared", "extended"):
            run = subprocess.run(
                ["pgbench", "-n", "-M", mode, "-c", "4", "-j", "2", "-T", str(seconds),
                 "-f", file.name, "-h", params.get("host") or "127.0.0.1",
                 "-p", str(params.get("port") or 5432), "-U", params.get("user") or "postgres",
                 params["dbname"]],
                capture_output=True, text=True, check=True, timeout=seconds + 60,
                env={**os.environ, "PGPASSWORD": params.get("password") or ""},
            )  # fmt: skip
            figures = {}
            for line in run.stdout.splitlines():
                if line.startswith("tps ="):
                    figures["tps"] = round(float(line.split()[2]))
                elif line.startswith("latency average"):
                    figures["latency_average_ms"] = float(line.split()[3])
            out[mode] = figures
    return out


# 2. and 3. Requests through the full stack.


class RedisCounter:
    """Every round trip redis-py makes in this process: one per packed command sent."""

    def __init__(self) -> None:
        self.trips = 0
        self.commands: Counter[str] = Counter()

    def install(self) -> None:
        from redis.connection import AbstractConnection

        counter = self
        send_packed, send = AbstractConnection.send_packed_command, AbstractConnection.send_command

        def send_packed_command(self, command, check_health=True):
            counter.trips += 1
            return send_packed(self, command, check_health)

        def send_command(self, *args, **kwargs):
            name = args[0]
            counter.commands[name.decode() if isinstance(name, bytes) else str(name)] += 1
            return send(self, *args, **kwargs)

        AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
        AbstractConnection.send_command = send_command  # type: ignore[method-assign]

    @contextmanager
    def counting(self):
        self.trips, self.commands = 0, Counter()
        yield self


def fixture(prefix: str):
    """A verified owner of a fresh organization, for tokens made by the real services."""
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from orgs.services import organization_create

    email = f"{prefix}-{secrets.token_hex(4)}@{SYNTHETIC_DOMAIN}"
    user = User.objects.create_user(email=email, password=None)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user, organization_create(name=f"{prefix} {secrets.token_hex(3)}", owner=user)


def mint(user, org, count: int, scopes=None) -> list[str]:
    from tokens.permissions import READ_WRITE
    from tokens.services import token_create

    return [
        token_create(
            owner=user,
            organization=org,
            name=f"scaling {secrets.token_hex(4)}",
            scopes=sorted(scopes or READ_WRITE),
        )[1]
        for _ in range(count)
    ]


def measure_redis(redis: RedisCounter, requests: int) -> dict:
    """Round trips per request, counted, at several per-token limits and request shapes."""
    from django.test import Client, override_settings

    from core import ratelimits

    client = Client()
    user, org = fixture("redis")
    out: dict = {"round_trips_per_request": {}}
    for limit in (60, 1000, 10_000):
        lease = min(max(limit // 100, 1), 50)
        n = min(requests, limit // 2)  # under the limit: this counts, it does not refuse
        (secret,) = mint(user, org, 1)
        ratelimits.leases.clear()
        with override_settings(API_RATE_LIMIT_PER_MINUTE=limit), redis.counting():
            statuses = Counter(
                client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code
                for _ in range(n)
            )
            trips, commands = redis.trips, dict(redis.commands)
        out["round_trips_per_request"][f"limit {limit}/min"] = {
            "lease": lease,
            "requests": n,
            "statuses": dict(statuses),
            "round_trips": trips,
            "per_request": round(trips / n, 3),
            "commands": commands,
        }
    # Many tokens each used a little: a lease seldom serves more than the request that took it.
    secrets_ = mint(user, org, 50)
    ratelimits.leases.clear()
    with redis.counting():
        for secret in secrets_:
            for _ in range(2):
                client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
        out["round_trips_per_request"]["50 tokens x 2 requests, limit 1000/min"] = {
            "requests": 100,
            "round_trips": redis.trips,
            "per_request": round(redis.trips / 100, 3),
        }
    from tokens import codec

    malformed = "tsr_pat_" + "A" * 36  # a wrong checksum: refused before any query or trip
    made_up = codec.generate("pat")  # well formed, unknown: counted against the address
    with redis.counting():
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {malformed}")
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {made_up}")
        out["unknown_token"] = {"malformed_then_unknown_round_trips": redis.trips}
    (secret,) = mint(user, org, 1)
    ratelimits.leases.clear()
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")  # the lease, taken
    with redis.counting():
        response = client.post(
            "/api/v1/projects",
            data={"name": "Idempotent"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY=secrets.token_hex(8),
        )
        out["post_with_idempotency_key"] = {
            "status": response.status_code,
            "round_trips": redis.trips,
            "commands": dict(redis.commands),
        }
    return out


def measure_redis_costs() -> dict:
    """The loopback round trip, the lease script's, and what the rate-limit keys hold."""
    from django.core.cache import caches

    from core import ratelimits

    out: dict = {}
    raw = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
    for _ in range(500):
        raw.ping()
    pings = []
    for _ in range(10_000):
        started = time.perf_counter_ns()
        raw.ping()
        pings.append(time.perf_counter_ns() - started)
    out["ping_round_trip"] = percentiles(pings)
    lease_calls = []
    for n in range(5000):
        key = f"scaling-probe:{n % 100}"
        started = time.perf_counter_ns()
        ratelimits._count(key, 10, limit=10**9, period=60, now=time.time())
        lease_calls.append(time.perf_counter_ns() - started)
    out["lease_script_round_trip"] = percentiles(lease_calls)
    keys = [k for k in raw.scan_iter(match="*rl:*", count=1000)]
    usage = [raw.memory_usage(k) for k in keys]
    per_key = [k for k in keys if b"{api:" in k]
    out["rate_limit_keys"] = {
        "keys": len(keys),
        "memory_usage_bytes_median": statistics.median(usage) if usage else None,
        "memory_usage_bytes_max": max(usage) if usage else None,
        "example_key": per_key[0].decode() if per_key else None,
        "ttl_seconds": raw.ttl(per_key[0]) if per_key else None,
    }
    slots = [k for k in raw.scan_iter(match="*idempotency:*", count=1000)]
    out["idempotency_slot"] = {
        "keys": len(slots),
        "memory_usage_bytes": raw.memory_usage(slots[0]) if slots else None,
        "ttl_seconds": raw.ttl(slots[0]) if slots else None,
    }
    # Server-wide (other clients of this Redis count too): the script's own time per call.
    stats = raw.info("commandstats").get("cmdstat_evalsha", {})
    out["evalsha_server_usec_per_call"] = stats.get("usec_per_call")
    info = raw.info("memory")
    out["redis_memory"] = {k: info[k] for k in ("used_memory", "used_memory_dataset")}
    return out


def measure_last_used(requests: int) -> dict:
    import time_machine
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from core import ratelimits

    updates: Counter[str] = Counter()

    def watch(execute, sql, params, many, context):
        if sql.startswith('UPDATE "tokens_token"'):
            column = sql.split("SET", 1)[1].split("=", 1)[0].strip().strip('"')
            updates[column] += 1
        return execute(sql, params, many, context)

    client = Client()
    user, org = fixture("last-used")
    out = {}
    # One token, a request every 2 s for `requests` requests, in simulated time.
    (secret,) = mint(user, org, 1)
    step = 2
    start = timezone.now() + timedelta(hours=1)
    with connection.execute_wrapper(watch), time_machine.travel(start, tick=False) as clock:
        ratelimits.leases.clear()
        for _ in range(requests):
            client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
            clock.shift(step)
    span = requests * step
    out["one_token_steady"] = {
        "requests": requests,
        "simulated_seconds": span,
        "updates": dict(updates),
        "updates_per_token_minute": round(updates["last_used_at"] / (span / 60), 2),
    }
    # Many tokens in a burst (well inside a minute): one write each, however many requests.
    updates.clear()
    secrets_ = mint(user, org, 20)
    with connection.execute_wrapper(watch):
        for _ in range(requests // 20):
            for secret in secrets_:
                client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    out["twenty_tokens_burst"] = {
        "requests": (requests // 20) * 20,
        "updates": dict(updates),
    }
    # A revoked token, retried: its rejection is logged once a minute.
    from audit.models import AuditEvent
    from tokens import codec
    from tokens.models import Token
    from tokens.services import token_revoke

    updates.clear()
    (secret,) = mint(user, org, 1)
    token = Token.objects.get(digest=codec.digest(secret))
    token_revoke(token=token, by=user)
    before = AuditEvent.objects.filter(token_id=token.pk).count()
    with connection.execute_wrapper(watch), time_machine.travel(start, tick=False) as clock:
        for _ in range(60):
            client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
            clock.shift(2)
    out["revoked_token_retried"] = {
        "requests": 60,
        "simulated_seconds": 120,
        "updates": dict(updates),
        "audit_rows": AuditEvent.objects.filter(token_id=token.pk).count() - before,
    }
    return out


def measure_last_used_update(total: int, samples: int, rng: random.Random) -> dict:
    """The middleware's conditional UPDATE on loaded rows that were never written since the
    load: latency, how many were HOT (no index entries written), and the WAL each wrote."""
    conn = raw_connection()
    cur = conn.cursor()
    cur.execute(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'tokens_token'"
    )
    before = cur.fetchone()
    sql = (
        "UPDATE tokens_token SET last_used_at = now(), last_used_ip = '192.0.2.9',"
        " last_used_user_agent = 'tessera-cli/1.0'"
        " WHERE (last_used_at IS NULL OR last_used_at <= now() - interval '60 seconds')"
        " AND id = %s"
    )
    ids = rng.sample(range(1, total + 1), samples)
    timings, wal_bytes, wal_fpi = [], [], []
    for n, pk in enumerate(ids):
        if n % 10 == 0:  # one in ten through EXPLAIN, for its WAL figures
            cur.execute("EXPLAIN (ANALYZE, WAL, FORMAT JSON) " + sql, [pk], prepare=False)
            plan = cur.fetchone()[0][0]["Plan"]
            wal_bytes.append(plan.get("WAL Bytes", 0))
            wal_fpi.append(plan.get("WAL FPI", 0))
            continue
        started = time.perf_counter_ns()
        cur.execute(sql, [pk])
        timings.append(time.perf_counter_ns() - started)
    time.sleep(1.2)
    conn.execute("SELECT 1")
    time.sleep(0.2)
    cur.execute("SELECT pg_stat_clear_snapshot()")
    cur.execute(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'tokens_token'"
    )
    after = cur.fetchone()
    cur.execute(
        "SELECT coalesce((regexp_match(array_to_string(reloptions, ','), 'fillfactor=(\\d+)'))[1],"
        " '100') FROM pg_class WHERE relname = 'tokens_token'"
    )
    fillfactor = cur.fetchone()[0]
    conn.close()
    updated = after[0] - before[0]
    return {
        "updates": updated,
        "hot_updates": after[1] - before[1],
        "fillfactor": int(fillfactor),
        "latency": percentiles(timings),
        "wal_bytes_median": statistics.median(wal_bytes),
        "wal_full_page_images_mean": round(statistics.mean(wal_fpi), 2),
    }


def measure_audit(rows: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from audit.models import AuditEvent
    from core import ratelimits

    client = Client()
    user, org = fixture("audit")
    secret, read_only = mint(user, org, 1)[0], mint(user, org, 1, scopes=["projects:read"])[0]
    ratelimits.leases.clear()
    out: dict = {"per_request": {}}
    project_id = None

    def call(label, method, path, token, body=None):
        nonlocal project_id
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(
                path,
                data=json.dumps(body) if body is not None else None,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
        events = AuditEvent.objects.order_by("-id")[: AuditEvent.objects.count() - before]
        kinds = Counter(e.event for e in events)
        writes = [
            q["sql"].split(" ", 3)[:3]
            for q in queries.captured_queries
            if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        ]
        out["per_request"][label] = {
            "status": response.status_code,
            "audit_rows": dict(kinds),
            "queries": len(queries),
            "writes": [" ".join(w) for w in writes],
        }
        if label == "POST /api/v1/projects":
            project_id = response.json()["id"]

    call("GET /api/v1/me (first this minute)", "get", "/api/v1/me", secret)
    call("GET /api/v1/me (again)", "get", "/api/v1/me", secret)
    call("GET /api/v1/projects", "get", "/api/v1/projects", secret)
    call("POST /api/v1/projects", "post", "/api/v1/projects", secret, {"name": "Audited"})
    call(
        "POST /api/v1/projects/{id}/tasks",
        "post",
        f"/api/v1/projects/{project_id}/tasks",
        secret,
        {"title": "A task"},
    )
    call(
        "POST /api/v1/projects refused (read-only token)",
        "post",
        "/api/v1/projects",
        read_only,
        {"name": "Refused"},
    )
    call("POST /api/v1/tokens/self/rotate", "post", "/api/v1/tokens/self/rotate", secret, {})
    call("DELETE /api/v1/tokens/self", "delete", "/api/v1/tokens/self", read_only)
    # The bytes a row takes, with its indexes, from `rows` synthetic API writes.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_total_relation_size('audit_auditevent'), count(*) FROM audit_auditevent"
        )
        size_before, count_before = cur.fetchone()
        cur.execute(
            "INSERT INTO audit_auditevent (created_at, event, token_prefix, action, status, ip,"
            " detail, actor_id, organization_id, subject_id, token_id, user_agent)"
            " SELECT now() - (g %% 2592000) * interval '1 second', 'api.write', 'tsr_pat_abcd',"
            " 'POST /api/v1/projects/' || (g %% 1000) || '/tasks', 201, '192.0.2.1',"
            " jsonb_build_object('request_id', md5(g::text)), %s, %s, %s, g, ''"
            " FROM generate_series(1, %s) g",
            [user.pk, org.pk, user.pk, rows],
        )
        cur.execute("ANALYZE audit_auditevent")
        cur.execute(
            "SELECT pg_total_relation_size('audit_auditevent'), count(*),"
            " pg_relation_size('audit_auditevent'), pg_indexes_size('audit_auditevent')"
            " FROM audit_auditevent"
        )
        size_after, count_after, heap, indexes = cur.fetchone()
        cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'audit_auditevent'")
        (index_count,) = cur.fetchone()
    added = count_after - count_before
    out["row_bytes"] = {
        "rows": added,
        "bytes_per_row_total": round((size_after - size_before) / added),
        "heap_bytes_per_row": round(heap / count_after),
        "index_bytes_per_row": round(indexes / count_after),
        "indexes": index_count,
    }
    return out


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--tokens-per-user", type=int, default=10)
    parser.add_argument("--users-per-org", type=int, default=20)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--audit-rows", type=int, default=100_000)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument(
        "--fillfactor", type=int, default=100, help="the tokens table's, set before the load"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--reuse", action="store_true", help="keep the rows already loaded")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--out", type=Path)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database of your own.")
    setup(database_url, args.redis)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 401s and 429s we cause
    from django.core.cache import caches
    from django.core.management import call_command

    rng = random.Random(args.seed)
    started = time.monotonic()
    admin = raw_connection()
    cur = admin.cursor()
    refuse_foreign_database(cur)
    call_command("migrate", verbosity=0)
    caches["default"]._cache.get_client(write=True).flushdb()  # type: ignore[attr-defined]
    result: dict = {
        "args": {k: v for k, v in vars(args).items() if k not in ("out", "redis")},
        "machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()},
    }
    cur.execute("SELECT count(*) FROM tokens_token")
    (present,) = cur.fetchone()
    if args.reuse and present >= args.tokens:
        print(f"reusing the {present} tokens loaded", flush=True)
    else:
        if present:
            sys.exit("The database holds tokens already: use a fresh one, or --reuse.")
        print(f"loading {args.tokens} tokens", flush=True)
        result["load"] = load(
            cur,
            tokens=args.tokens,
            tokens_per_user=args.tokens_per_user,
            users_per_org=args.users_per_org,
            fillfactor=args.fillfactor,
        )
    admin.close()
    print("1. the auth query", flush=True)
    result["auth_query"] = measure_auth_query(args.tokens, args.lookups, rng)
    result["auth_query"]["pgbench"] = pgbench_throughput(args.tokens, args.pgbench_seconds)
    redis = RedisCounter()
    redis.install()
    print("2. Redis round trips", flush=True)
    result["redis"] = measure_redis(redis, args.requests) | measure_redis_costs()
    print("3. last-used writes", flush=True)
    result["last_used"] = measure_last_used(args.requests)
    result["last_used_update_at_size"] = measure_last_used_update(args.tokens, 2000, rng)
    print("4. audit rows", flush=True)
    result["audit"] = measure_audit(args.audit_rows)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["machine"]["load_average_at_end"] = os.getloadavg()
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
