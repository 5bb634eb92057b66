"""The migrations runner on SQLite.

- The run lock is an exclusive `flock` on the database file, held for the whole run: SQLite's own
  locks are POSIX record locks, which `flock` never touches, and it dies with the process, so a
  killed run leaves nothing behind. (An in-memory database is private to its process: no lock.)
- SQLite's DDL is transactional, so each migration runs in one `BEGIN IMMEDIATE` transaction with
  its history row: applied and recorded together or not at all; a failure leaves the database as
  it was. The runner owns the transaction: a file's own `BEGIN`/`COMMIT` (as `diff` writes them)
  are left to it, and a file that turns `PRAGMA foreign_keys` off (a table rebuild) gets that
  before the transaction and foreign keys back on after, since the pragma is a no-op inside one.
- SQLite has one namespace: the history table `schema.name` is `name` when the schema is `public`
  or `main`, else `schema_name`.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
import random
import re
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ...migrations.errors import LockTimeout, MigrationFailed, MigrationsError
from ...migrations.files import MigrationFile
from ...migrations.history import HistoryTable, Row, State
from ...sqlfiles import SqlFile
from . import databases
from .sqltext import quote

if TYPE_CHECKING:
    from ...migrations.runner import Project

POLL_SECONDS = (0.05, 0.25)
_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK)\b[^;]*;?\s*$", re.I)
_FOREIGN_KEYS = re.compile(r"^\s*PRAGMA\s+foreign_keys\s*=\s*(\w+)\s*;?\s*$", re.I)
_COLUMNS = "id, version, name, checksum, action, success, steps_done, applied_at, applied_by, duration_ms, error"


def table_name(table: HistoryTable) -> str:
    return table.name if table.schema in ("public", "main") else f"{table.schema}_{table.name}"


class SqliteRunBackend:
    @contextlib.contextmanager
    def session(self, url: str | None, table: HistoryTable, lock_timeout: float,
                on_wait: Callable[[], None]) -> Iterator[sqlite3.Connection]:
        with self.reader(url) as conn, _file_lock(url or "", table, lock_timeout, on_wait):
            conn.execute(_ddl(table))
            yield conn

    @contextlib.contextmanager
    def reader(self, url: str | None) -> Iterator[sqlite3.Connection]:
        if not url:
            raise MigrationsError("no database URL: pass --url or set DATABASE_URL")
        with contextlib.closing(databases.connect(url)) as conn:
            yield conn

    def has_history(self, conn: sqlite3.Connection, table: HistoryTable) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
                            [table_name(table)]).fetchone() is not None

    def rows(self, conn: sqlite3.Connection, table: HistoryTable) -> list[Row]:
        if not self.has_history(conn, table):
            return []
        found = conn.execute(f"SELECT {_COLUMNS} FROM {quote(table_name(table))} ORDER BY id").fetchall()
        return [Row(*r[:5], bool(r[5]), r[6], datetime.fromisoformat(r[7]), *r[8:]) for r in found]

    def record(self, conn: sqlite3.Connection, table: HistoryTable, version: int, name: str, checksum: str,
               action: str) -> None:
        _insert(conn, table, version, name, checksum, action, True, 0, None, None)

    @contextlib.contextmanager
    def transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def executor(self, conn: sqlite3.Connection, table: HistoryTable, allow_changed: bool) -> SqliteExecutor:
        return SqliteExecutor(self, conn, table)

    def durable(self, conn: sqlite3.Connection) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # each COMMIT is synced to disk already

    def forget(self, conn: sqlite3.Connection, table: HistoryTable) -> None:
        conn.execute(f"DROP TABLE IF EXISTS {quote(table_name(table))}")

    def backup(self, conn: sqlite3.Connection, url: str, path: Path, bin_dir: str | None) -> None:
        """SQLite's online backup: a consistent copy even while others write."""
        with contextlib.closing(sqlite3.connect(path)) as copy:
            conn.backup(copy)

    def script(self, project: Project, direction: str, to: str | None, steps: int | None) -> str:
        """A script for `sqlite3 -bail`, each migration in its transaction with its history row;
        it assumes nothing is applied for `up`, and every file for `down`, as on PostgreSQL."""
        from ...migrations.runner import down_targets

        if direction == "up":
            target = project.version(to) if to else None
            chosen = [f for f in project.files if target is None or f.version <= target]
        else:
            chosen = [project.by_version[v] for v in down_targets([f.version for f in project.files], project, to, steps)]
        lines = [f"-- schemashift {direction} --sql: {len(chosen)} migration(s), history in {table_name(project.table)}",
                 _ddl(project.table) + ";"]
        for migration in chosen:
            if migration.is_python:
                raise MigrationsError(f"{migration.path}: a Python migration cannot be printed as SQL")
            body, foreign_keys_off = _body_of(_statements(migration, direction))
            record = (f"INSERT INTO {quote(table_name(project.table))} (version, name, checksum, action, success, "
                      f"steps_done, applied_by) VALUES ({migration.version}, {_literal(migration.name)}, "
                      f"{_literal(migration.checksum)}, '{direction}', 1, 1, {_literal(getpass.getuser())});")
            lines += [f"\n-- {migration.name} ({direction})", *(["PRAGMA foreign_keys=OFF;"] if foreign_keys_off else []),
                      "BEGIN;", *(text.rstrip().rstrip(";") + ";" for _, text in body), record, "COMMIT;",
                      *(["PRAGMA foreign_keys=ON;"] if foreign_keys_off else [])]
        return "\n".join(lines) + "\n"


def _ddl(table: HistoryTable) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {quote(table_name(table))} ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL, name TEXT NOT NULL, "
            "checksum TEXT NOT NULL, action TEXT NOT NULL, success INTEGER NOT NULL, "
            "steps_done INTEGER NOT NULL DEFAULT 0, "
            "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), "
            "applied_by TEXT NOT NULL, duration_ms INTEGER, error TEXT)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _statements(migration: MigrationFile, direction: str) -> list[tuple[int, str]]:
    """(line, text) of each statement of a SQL migration's section."""
    section = migration.section(direction)
    found = [(line + section.first_line - 1, text)
             for line, text in databases.statements(SqlFile(str(migration.path), section.text))]
    if not found and direction == "down":
        raise MigrationsError(f"{migration.path}: the down section is empty, nothing reverts it")
    return found


def _body_of(statements: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], bool]:
    """The statements the runner runs in its own transaction, and whether foreign keys go off
    around it: a file's own BEGIN/COMMIT and foreign_keys pragmas are the runner's to do."""
    off = any((m := _FOREIGN_KEYS.match(text)) and m.group(1).upper() in ("OFF", "0", "FALSE", "NO")
              for _, text in statements)
    return [(line, text) for line, text in statements
            if not (_TRANSACTION_CONTROL.match(text) or _FOREIGN_KEYS.match(text))], off


def _insert(conn: sqlite3.Connection, table: HistoryTable, version: int, name: str, checksum: str, action: str,
            success: bool, steps_done: int, duration_ms: int | None, error: str | None) -> None:
    conn.execute(f"INSERT INTO {quote(table_name(table))} (version, name, checksum, action, success, steps_done, "
                 "applied_by, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [version, name, checksum, action, int(success), steps_done, getpass.getuser(), duration_ms, error])


@contextlib.contextmanager
def _file_lock(url: str, table: HistoryTable, timeout: float, on_wait: Callable[[], None]) -> Iterator[None]:
    path = databases.file_of(url)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        deadline, waited = time.monotonic() + timeout, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"another schemashift run has held the lock on {path} for over "
                                      f"{timeout:g}s (raise --lock-timeout to wait longer)") from None
                if not waited:
                    on_wait()
                    waited = True
                time.sleep(random.uniform(*POLL_SECONDS))
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass
class SqliteExecutor:
    """Each migration in one transaction with its history row (see the module's docstring)."""

    backend: SqliteRunBackend
    conn: sqlite3.Connection
    table: HistoryTable

    def run_all(self, chosen: list[MigrationFile], direction: str, state: State,
                announce: Callable[[str], None]) -> Iterator[tuple[MigrationFile, int]]:
        for migration in chosen:
            announce(migration.name)
            started = time.monotonic()
            self._run(migration, direction, started)
            yield migration, _ms(started)

    def _run(self, migration: MigrationFile, direction: str, started: float) -> None:
        body, foreign_keys_off = ([], False) if migration.is_python else _body_of(_statements(migration, direction))
        if foreign_keys_off:
            self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.backend.transaction(self.conn):
                self._body(migration, direction, body)
                _insert(self.conn, self.table, migration.version, migration.name, migration.checksum, direction,
                        True, 1, _ms(started), None)
        except MigrationFailed as exc:
            with contextlib.suppress(sqlite3.Error):
                _insert(self.conn, self.table, migration.version, migration.name, migration.checksum, direction,
                        False, 0, _ms(started), exc.error)
            raise
        finally:
            if foreign_keys_off:
                self.conn.execute("PRAGMA foreign_keys=ON")

    def _body(self, migration: MigrationFile, direction: str, body: list[tuple[int, str]]) -> None:
        if migration.is_python:
            function = getattr(migration.load_module(), direction, None)
            if function is None:
                raise MigrationsError(f"{migration.path}: defines no {direction}(conn)")
            try:
                function(self.conn)
            except Exception as exc:
                frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(migration.path)]
                raise MigrationFailed(str(migration.path), frames[-1].lineno if frames else None, f"{direction}()",
                                      f"{type(exc).__name__}: {exc}".strip()) from None
            return
        for line, text in body:
            try:
                self.conn.execute(text)
            except sqlite3.Error as exc:
                raise MigrationFailed(str(migration.path), line, text, str(exc)) from None


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
