"""Connecting for a run: an autocommit session, so the runner decides where each transaction starts
and ends, holding the run lock for as long as the session lives."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import psycopg

from ..servers import normalize_url
from . import lock
from .errors import ConnectError
from .history import HistoryTable

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
