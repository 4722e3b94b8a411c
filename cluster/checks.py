"""`make cluster-test`: what a balancer, a second host, a dead host, a lost Redis and a restarted
database do to users, shown with figures on a running cluster (cluster.stack.up)."""

import os
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from . import stack
from .hosts import (
    APP_PORT,
    APPS,
    GUNICORN_WORKERS,
    LEASE_SECONDS,
    LIMIT,
    PORT,
    Cluster,
    app_ip,
    command_line,
    kill,
    pids,
)
from .load import Answer, Client, Load, many, statuses

BALANCER = f"127.0.0.1:{PORT}"
PASSWORD = "cluster horse battery staple"  # noqa: S105 (the cluster's own throwaway account)
FIGURES: list[tuple[str, str]] = []


def say(what: str, figure: str) -> None:
    FIGURES.append((what, figure))
    print(f"  {what}: {figure}", flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


@dataclass
class People:
    email: str
    project_id: int
    tokens: list[str]  # for the load, 100 of them: no one of them nears the limit
    spare: list[tuple[str, str]]  # (prefix, secret) for the checks that spend a token


def django_setup(cluster: Cluster) -> None:
    """This process talks to the cluster's database like an app host (through PgBouncer)."""
    os.environ.update(stack.app_env(cluster, None))
    import django

    django.setup()


def people() -> People:
    """An owner with a password, an organization, a project, and tokens, made through the
    services the app uses (their emails go through the queue like any other)."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import User
    from orgs.services import organization_create
    from projects.models import Project
    from tokens.permissions import READ_WRITE
    from tokens.services import token_create

    email = "owner@cluster.test"
    user = User.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    organization = organization_create(name="Cluster", owner=user)  # its owner
    project = Project.objects.create(organization=organization, name="Load")
    made = [
        token_create(
            owner=user,
            organization=organization,
            name=f"cluster {n}",
            scopes=sorted(READ_WRITE),
            expires_at=timezone.now() + timedelta(days=60),  # no reminder due mid-test
        )
        for n in range(106)
    ]
    secrets = [secret for _, secret in made]
    return People(email, project.id, secrets[:100], [(t.prefix, s) for t, s in made[100:]])


def queue_empty() -> bool:
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    connections.close_all()  # a connection from before a database restart is gone

    return not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()


def host_client(n: int) -> Client:
    return Client(f"{app_ip(n)}:{APP_PORT}")


def accepted_by_host() -> dict[int, float]:
    """Bearer tokens each app host has accepted since it started (its /metrics)."""
    found = {}
    for n in APPS:
        text = host_client(n).request("GET", "/metrics").body.decode()
        found[n] = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("tessera_token_authentications_total")
            and 'outcome="accepted"' in line
        )
    return found


def check_limit(fx: People) -> None:
    """A per-token limit of L, counted across every process of every host."""
    _, secret = fx.spare.pop()
    before = accepted_by_host()
    sent = LIMIT * 3 // 2
    # Leases last until their five-second bucket turns: start the burst as one begins, so that
    # it ends within it on a quiet machine and few leased requests go unused.
    time.sleep(5 - time.time() % 5 + 0.05)
    answers = many(BALANCER, sent, lambda c, i: c.request("GET", "/api/v1/me", token=secret))
    after = accepted_by_host()
    admitted = sum(a.status == 200 for a in answers)
    spread = " / ".join(f"{after[n] - before[n]:.0f}" for n in APPS)
    say(
        "Per-token limit",
        f"{admitted} of {sent} admitted at a limit of {LIMIT} "
        f"({statuses(answers)}); requests per host {spread}",
    )
    expect(admitted <= LIMIT, f"{admitted} admitted over a limit of {LIMIT}")
    # Unused leases make a limit bite early, by at most one lease per process per bucket turned.
    leases = GUNICORN_WORKERS * len(APPS) * min(max(LIMIT // 100, 1), 50)
    expect(admitted >= LIMIT - leases, f"only {admitted} admitted at a limit of {LIMIT}")
    expect(all(after[n] > before[n] for n in APPS), "a host got none of the requests")


def check_revocation(fx: People) -> None:
    """Revoked through host 1, refused by hosts 2 and 3 at their next request."""
    _, secret = fx.spare.pop()
    for n in (2, 3):
        expect(
            host_client(n).request("GET", "/api/v1/me", token=secret).status == 200,
            f"host {n} refused a working token",
        )
    revoked = host_client(1).request("DELETE", "/api/v1/tokens/self", token=secret)
    expect(revoked.status == 204, f"revoking through host 1 answered {revoked.status}")
    answers = {n: host_client(n).request("GET", "/api/v1/me", token=secret) for n in (2, 3)}
    after = max(a.ended for a in answers.values()) - revoked.ended
    say(
        "Revocation",
        f"revoked through host 1; hosts 2 and 3 answered "
        f"{answers[2].status} and {answers[3].status}, {after * 1000:.0f} ms later",
    )
    expect(all(a.status == 401 for a in answers.values()), "a host still took a revoked token")


def writes_kept(answers: list[Answer]) -> tuple[int, int]:
    """(writes answered 2xx, of those, how many are in the database)."""
    confirmed = [a.title for a in answers if a.kind == "write" and 200 <= a.status < 300]
    return len(confirmed), writes_made(confirmed)


def writes_made(titles: list[str]) -> int:
    """How many of the tasks of these titles are in the database."""
    from django.db import connections

    from projects.models import Task

    connections.close_all()  # a connection from before a database restart is gone
    return len(set(Task.objects.filter(title__in=titles).values_list("title", flat=True)))


def check_host_killed(cluster: Cluster, fx: People) -> None:
    """SIGKILL every process of app host 2 under a steady load, then start it again."""
    with Load(BALANCER, fx.tokens, fx.project_id) as load:
        time.sleep(4)
        killed_at = time.monotonic()
        kill("app2")
        down_after = stack.wait_until(
            lambda: stack.servers_up(cluster)["app2"] != "UP",
            timeout=15,
            what="the balancer seeing app2 down",
        )
        time.sleep(max(0.0, killed_at + 6 - time.monotonic()))
        stack.app_up(cluster, 2)
        rejoined = stack.wait_until(
            lambda: stack.servers_up(cluster)["app2"] == "UP", timeout=30, what="app2 rejoining"
        )
        time.sleep(4)
    answers = load.answers
    failed = [a for a in answers if not 200 <= a.status < 300]
    confirmed, kept = writes_kept(answers)
    window = (max(a.ended for a in failed) - min(a.started for a in failed)) if failed else 0.0
    kinds = {kind: sum(a.kind == kind for a in failed) for kind in ("read", "write")}
    say(
        "App host killed (SIGKILL) under load",
        f"{len(answers)} requests ({statuses(answers)}); failed {len(failed)} "
        f"({kinds['read']} reads, {kinds['write']} writes; 0 is a connection closed without an "
        f"answer) within {window:.2f} s; the balancer took the host out {down_after:.1f} s "
        "after the kill",
    )
    say("Writes answered 2xx and lost", f"{confirmed - kept} of {confirmed}")
    if kinds["write"]:
        made = writes_made([a.title for a in failed if a.kind == "write"])
        say(
            "Writes that failed",
            f"{kinds['write']}, of which {made} were made all the same "
            "(a client retries such a write with the same Idempotency-Key)",
        )
    say(
        "Host rejoined",
        f"{rejoined:.1f} s after its restart; served {accepted_by_host()[2]:.0f} requests since",
    )
    expect(kept == confirmed, f"{confirmed - kept} confirmed writes are missing")
    # Only what was in flight on the dead host can fail: one request per client at most, all
    # before the balancer's checks (1 s apart, 2 to fail) had taken the host out.
    expect(len(failed) <= load.clients, f"{len(failed)} requests failed")
    expect(all(a.started < killed_at + down_after + 1 for a in failed), "failures went on")
    expect(all(a.status in (0, 502, 503) for a in failed), f"failures: {statuses(failed)}")


def sign_in(email: str) -> tuple[int, int]:
    """Sign in through the balancer as a browser does; the sign-in POST's status and the
    status of the page it leads to, with the session it gave."""
    client = Client(BALANCER)
    page = client.request("GET", "/accounts/login/", headers={"Accept": "text/html"})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    form = {"login": email, "password": PASSWORD}
    form["csrfmiddlewaretoken"] = token.group(1).decode() if token else ""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(page.cookies),
        "Origin": f"http://{BALANCER}",
        "Accept": "text/html",
    }
    posted = client.request(
        "POST", "/accounts/login/", body=urlencode(form).encode(), headers=headers
    )
    cookies = {c.split("=")[0]: c for c in [*page.cookies, *posted.cookies]}
    headers = {"Cookie": "; ".join(cookies.values()), "Accept": "text/html"}
    landed = client.request("GET", posted.headers.get("location", "/"), headers=headers)
    return posted.status, landed.status


def check_redis_stopped(cluster: Cluster, fx: People) -> None:
    """Redis away: the API serves (limits fail open, logged), sign-in works, no 500."""
    warned = sum(cluster.log(f"app{n}-gunicorn").count("unreachable") for n in APPS)
    stack.redis_stop()
    try:
        reads = many(
            BALANCER,
            90,
            lambda c, i: c.request("GET", "/api/v1/me", token=fx.tokens[i % len(fx.tokens)]),
        )
        writes = many(
            BALANCER,
            30,
            lambda c, i: c.request(
                "POST",
                f"/api/v1/projects/{fx.project_id}/tasks",
                token=fx.tokens[i],
                body={"title": f"without redis {i}"},
                headers={"Idempotency-Key": f"nr-{i}"},
            ),
        )
        signed_in = sign_in(fx.email)
    finally:
        stack.redis_start(cluster)
    answers = reads + writes
    logged = sum(cluster.log(f"app{n}-gunicorn").count("unreachable") for n in APPS) - warned
    say(
        "Redis stopped",
        f"{statuses(answers)} for reads and idempotent writes; sign-in "
        f"{signed_in[0]} then the Developer tab {signed_in[1]}; {logged} warnings logged",
    )
    expect(all(200 <= a.status < 300 for a in answers), f"without Redis: {statuses(answers)}")
    expect(signed_in == (302, 200), f"sign-in without Redis: {signed_in}")
    expect(logged > 0, "nothing logged about Redis being away")


def check_database_restarted(cluster: Cluster, fx: People) -> None:
    """PostgreSQL stopped for 6 s under load: 503 with Retry-After, then full service."""
    with Load(BALANCER, fx.tokens, fx.project_id, clients=4) as load:
        time.sleep(3)
        stopped_at = time.monotonic()
        stack.pg_stop(cluster)
        time.sleep(6)
        started_at = time.monotonic()
        stack.pg_start(cluster)
        back = stack.wait_until(
            lambda: any(a.status == 200 and a.started > started_at for a in load.answers),
            timeout=30,
            what="a 200 after PostgreSQL came back",
        )
        every_host = stack.wait_until(
            lambda: set(stack.servers_up(cluster).values()) == {"UP"},
            timeout=30,
            what="every host ready again",
        )
        time.sleep(3)
    down = load.between(stopped_at, started_at)
    refused = [a for a in down if not 200 <= a.status < 300]
    slowest = max((a.ended - a.started for a in down), default=0)
    confirmed, kept = writes_kept(load.answers)
    say(
        "PostgreSQL stopped for 6 s",
        f"{statuses(down)} while it was down; "
        f"{sum(1 for a in refused if a.headers.get('retry-after'))} of {len(refused)} "
        f"refusals with Retry-After; slowest {slowest:.1f} s",
    )
    say(
        "PostgreSQL back",
        f"first 200 {back:.1f} s after the start, every host ready after "
        f"{every_host:.1f} s; writes lost {confirmed - kept} of {confirmed} confirmed",
    )
    after = [a for a in load.answers if a.started > started_at + back + every_host]
    expect(all(200 <= a.status < 300 for a in after), f"after recovery: {statuses(after)}")
    expect(
        all(a.status == 503 and a.headers.get("retry-after") for a in refused),
        f"while down: {statuses(refused)}",
    )
    expect(kept == confirmed, f"{confirmed - kept} confirmed writes are missing")
    # The queue is in the database too: every host's worker outlived the outage and works.
    workers = [
        n for n in APPS if any("manage.py worker" in command_line(p) for p in pids(f"app{n}"))
    ]
    expect(workers == list(APPS), f"workers left after the outage: on hosts {workers}")
    sent = leak_report_mailed(cluster, fx)
    say(
        "The queue after the outage",
        f"a worker on each host; a leak report's email sent {sent:.1f} s after the report",
    )


def check_worker_killed(cluster: Cluster, fx: People) -> None:
    """A leak report's email caught mid-send; its worker killed; another host's sends it once."""
    mail = cluster.folder / "mail"
    prefix, secret = fx.spare.pop()
    stack.wait_until(queue_empty, timeout=60, what="the queue emptied")
    before = set(mail.glob("*.eml"))  # the token's creation notice names its prefix too
    (mail / "HOLD").touch()
    try:
        reported = Client(BALANCER).request(
            "POST", "/api/v1/credentials/revoke", body={"credentials": [secret]}
        )
        expect(reported.status == 202, f"the leak report answered {reported.status}")
        stack.wait_until(
            lambda: any(mail.glob("held-*")),
            timeout=30,
            what="a worker sending the leak report's email",
        )
        held = next(mail.glob("held-*")).name.removeprefix("held-")
        host = next(n for n in APPS if app_ip(n) == held)
        killed = kill(f"app{host}", matching="manage.py worker")
        expect(bool(killed), f"no worker to kill on app{host}")
    finally:
        (mail / "HOLD").unlink()

    def copies() -> list[str]:
        return mail_naming(mail, prefix, since=before)

    sent_after = stack.wait_until(
        lambda: bool(copies()), timeout=LEASE_SECONDS + 30, what="the leak report's email"
    )
    time.sleep(3)  # room for a second copy, were there one
    sent = copies()
    by = sent[0].splitlines()[0].removeprefix("X-Cluster-Peer: ")
    say(
        "Worker killed mid-send",
        f"the email went {len(sent)} time(s), from "
        f"app{next(n for n in APPS if app_ip(n) == by)}, {sent_after:.1f} s after app{host}'s "
        f"worker was killed (lease {LEASE_SECONDS} s)",
    )
    stack.worker_up(cluster, host)
    expect(len(sent) == 1, f"the email went {len(sent)} times")
    expect(by != held, "the email went from the host whose worker was killed")


def leak_report_mailed(cluster: Cluster, fx: People) -> float:
    """Report a token leaked; the seconds until its owner's email reached the mail server."""
    mail = cluster.folder / "mail"
    prefix, secret = fx.spare.pop()
    before = set(mail.glob("*.eml"))
    reported = Client(BALANCER).request(
        "POST", "/api/v1/credentials/revoke", body={"credentials": [secret]}
    )
    expect(reported.status == 202, f"the leak report answered {reported.status}")
    return stack.wait_until(
        lambda: bool(mail_naming(mail, prefix, since=before)),
        timeout=60,
        what="the leak report's email",
    )


def mail_naming(mail: Path, prefix: str, *, since: set[Path]) -> list[str]:
    """The messages caught after `since` that name the token of `prefix`."""
    texts = [path.read_text(errors="replace") for path in set(mail.glob("*.eml")) - since]
    return [text for text in texts if prefix in text]
