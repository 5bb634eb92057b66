"""The run lock: a session-level advisory lock keyed by the history table, held for a whole run.

Session level, because a run commits many transactions and runs `CREATE INDEX CONCURRENTLY`
outside any; the lock dies with the connection, so a killed run never leaves it behind.

A waiting run polls `pg_try_advisory_lock` instead of blocking in `pg_advisory_lock`: a blocked call
is a transaction with a snapshot, and `CREATE INDEX CONCURRENTLY` in the holder waits for every
older snapshot to end, so holder and waiter would wait on each other (Flyway hit the same).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import psycopg

from ...migrations.errors import LockTimeout
from ...migrations.history import HistoryTable

POLL_SECONDS = (0.05, 0.25)


def acquire(conn: psycopg.Connection, table: HistoryTable, timeout: float,
            on_wait: Callable[[], None] = lambda: None) -> None:
    """Take the run lock on an autocommit connection, waiting at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    waited = False
    while not _try(conn, table):
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"another schemashift run has held the lock on {table} for over {timeout:g}s "
                "(raise --lock-timeout to wait longer)"
            )
        if not waited:
            on_wait()
            waited = True
        time.sleep(random.uniform(*POLL_SECONDS))


def _try(conn: psycopg.Connection, table: HistoryTable) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", [table.lock_key]).fetchone()
    return bool(row and row[0])


def release(conn: psycopg.Connection, table: HistoryTable) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", [table.lock_key])
