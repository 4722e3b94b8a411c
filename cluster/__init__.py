"""Tessera on more than one machine, on this one: `make cluster`, `make cluster-test`,
`make cluster-down` (README, "Operations").

Hosts are Linux network namespaces joined by a bridge on a private subnet that only they use:

    tessera-data    10.188.0.10  PostgreSQL (its own initdb) behind PgBouncer in transaction mode,
                                 Redis, and a mail server that keeps what it is sent (cluster.smtp)
    tessera-app1-3  10.188.0.11-13  gunicorn and a task worker (`manage.py worker`) each
    (this host)     10.188.0.1   HAProxy, on 127.0.0.1:$CLUSTER_PORT (8800), health-checking /readyz

Every process runs in the foreground of its own session with its log in the cluster's temporary
folder; `down` kills every process in the namespaces, then the namespaces, the bridge and the
folder. Needs root (namespaces), PostgreSQL's server binaries, and Debian's haproxy and
pgbouncer, which `up` installs when they are missing.
"""
