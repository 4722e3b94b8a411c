"""Database helpers below every app."""

import time
from collections.abc import Callable

from django.db import OperationalError, connection


def retry_when_locked[T](write: Callable[[], T], *, attempts: int = 5) -> T:
    """Run `write` (a whole transaction), again after a short pause if SQLite says the database
    is locked: a file database waits for its write lock (transaction_mode IMMEDIATE), but an
    in-memory one shared between threads answers at once. PostgreSQL's row locks wait by
    themselves, so there it runs once."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OperationalError as exc:
            locked = connection.vendor == "sqlite" and "locked" in str(exc)
            if not locked or attempt == attempts:
                raise
            time.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")
