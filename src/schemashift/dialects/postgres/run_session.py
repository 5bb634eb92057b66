"""Connecting for a run: an autocommit session, so the runner decides where each transaction starts
and ends, holding the run lock for as long as the session lives, and flushing to disk once per run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import psycopg

from ...urls import normalize_url
from . import run_lock as lock
from ...migrations.errors import ConnectError
from ...migrations.history import HistoryTable

# A killed client's backend keeps running its statement, holding the run lock, until it next talks
# to the client; from PostgreSQL 14 it can check for a closed socket while it works.
CHECK_CLIENT_SINCE = 140000


def connect(url: str | None) -> psycopg.Connection:
    """An autocommit connection; an unusable URL or server becomes one line naming the problem."""
    if not url:
        raise ConnectError("no database URL: pass --url or set DATABASE_URL")
    try:
        conn = psycopg.connect(normalize_url(url), autocommit=True, application_name="schemashift")
    except psycopg.Error as exc:
        raise ConnectError(f"cannot connect to the database: {exc}") from None
    if conn.info.server_version >= CHECK_CLIENT_SINCE:
        conn.execute("SET client_connection_check_interval = '1s'")
    return conn


@contextlib.contextmanager
def locked_session(url: str | None, table: HistoryTable, lock_timeout: float,
                   on_wait: Callable[[], None] = lambda: None) -> Iterator[psycopg.Connection]:
    """A connection holding the run lock, with the history table created; closed on exit."""
    with connect(url) as conn:
        lock.acquire(conn, table, lock_timeout, on_wait)
        try:
            table.ensure(conn)
            yield conn
        finally:
            if not conn.closed:
                with contextlib.suppress(psycopg.Error):
                    lock.release(conn, table)


@contextlib.contextmanager
def flushed_once(conn: psycopg.Connection) -> Iterator[None]:
    """Commit every transaction of the block without waiting for its flush to disk, then make them
    all durable with one flushed commit before the block ends (normally or not).

    Why it is safe: an asynchronous commit is visible at once and ordered in the WAL like any other;
    what a crash of the server (not of this client) can lose is only the last few hundred
    milliseconds of commits, and the WAL replays as a prefix. Each migration's changes and its history
    row are one transaction, so after such a crash the database is at an earlier migration with a
    history that says so, and the next run applies the rest. The run reports success (exit 0) only
    after the closing commit, whose flush covers every earlier commit in the WAL; so a run that
    succeeded is as durable as one that flushed each migration. "applied" lines printed before a
    server crash may be undone by it; the history table says what stayed.
    """
    conn.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        if not conn.closed:
            with contextlib.suppress(psycopg.Error):
                conn.execute("RESET synchronous_commit")  # the session's own setting, e.g. remote_apply
                conn.execute("SELECT txid_current()")  # an XID makes a commit record, which waits for the flush
