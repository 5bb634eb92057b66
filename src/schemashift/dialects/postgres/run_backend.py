"""The migrations runner on PostgreSQL: an advisory-locked autocommit session, the history table
written with psycopg's composed SQL, the pipelined executor, one flushed commit per run."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from . import backup, offline
from .run_session import connect, flushed_once, locked_session
from .run_executor import Executor
from ...migrations.history import HistoryTable, Row

if TYPE_CHECKING:
    from ...migrations.runner import Project


class PostgresRunBackend:
    def session(self, url: str | None, table: HistoryTable, lock_timeout: float,
                on_wait: Callable[[], None]) -> AbstractContextManager[psycopg.Connection]:
        return locked_session(url, table, lock_timeout, on_wait)

    def reader(self, url: str | None) -> AbstractContextManager[psycopg.Connection]:
        return connect(url)

    def has_history(self, conn: psycopg.Connection, table: HistoryTable) -> bool:
        return table.exists(conn)

    def forget(self, conn: psycopg.Connection, table: HistoryTable) -> None:
        """Drop the history table, and its schema unless that is `public`."""
        if table.schema == "public":
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table.ident))
        else:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(table.schema)))

    def rows(self, conn: psycopg.Connection, table: HistoryTable) -> list[Row]:
        return table.rows(conn)

    def record(self, conn: psycopg.Connection, table: HistoryTable, version: int, name: str, checksum: str,
               action: str) -> None:
        conn.execute(*table.insert(version, name, checksum, action, success=True))

    def transaction(self, conn: psycopg.Connection) -> AbstractContextManager[None]:
        return conn.transaction()  # type: ignore[return-value]

    def executor(self, conn: psycopg.Connection, table: HistoryTable, allow_changed: bool) -> Executor:
        return Executor(conn, table, allow_changed)

    def durable(self, conn: psycopg.Connection) -> AbstractContextManager[None]:
        return flushed_once(conn)

    def backup(self, conn: psycopg.Connection, url: str, path: Path, bin_dir: str | None) -> None:
        backup.backup(conn, url, path, bin_dir)

    def script(self, project: Project, direction: str, to: str | None, steps: int | None) -> str:
        return offline.render_up(project, to) if direction == "up" else offline.render_down(project, to, steps)
