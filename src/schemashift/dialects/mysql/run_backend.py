"""The migrations runner on MySQL/MariaDB.

- The run lock is `GET_LOCK('schemashift:<database>.<table>')`, a named lock held by the session for
  the whole run and gone with its connection, so a killed run never leaves it behind; a waiting run
  polls with a zero timeout, as on PostgreSQL.
- MySQL commits around every DDL statement, so a migration cannot be one transaction: each statement
  is a step of its own, and the history row counts the steps done as they commit. A run that fails
  (or is killed) at the 3rd statement leaves a row saying 2 steps are done; `status` names it, and the
  next `up` resumes at the 3rd statement. The row also keeps a hash of the statements done, so a
  file fixed after its failed statement resumes with a plain `up`; a file whose done statements
  changed is refused (unless `--allow-changed`): what ran is no longer what the file says.
- The history table lives in the URL's database, named `HistoryTable.flat_name`.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql

from ...migrations import python_migrations
from ...migrations.errors import HistoryMismatch, LockTimeout, MigrationFailed, MigrationsError
from ...migrations.files import MigrationFile
from ...migrations.history import HistoryTable, Row, State
from .servers import parse_url, run, server_message
from .sqltext import Piece, quote, split

if TYPE_CHECKING:
    from ...migrations.runner import Project

POLL_SECONDS = (0.05, 0.25)
_COLUMNS = "id, version, name, checksum, action, success, steps_done, applied_at, applied_by, duration_ms, error"


def table_name(table: HistoryTable) -> str:
    return quote(table.flat_name)


def _ddl(table: HistoryTable) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table_name(table)} (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
            "version BIGINT NOT NULL, name VARCHAR(255) NOT NULL, checksum VARCHAR(128) NOT NULL, "
            "action VARCHAR(16) NOT NULL, success BOOLEAN NOT NULL, steps_done INT NOT NULL DEFAULT 0, "
            "applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), applied_by VARCHAR(255) NOT NULL, "
            "duration_ms BIGINT, error TEXT, steps_checksum CHAR(64)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


class MysqlRunBackend:
    @contextlib.contextmanager
    def session(self, url: str | None, table: HistoryTable, lock_timeout: float,
                on_wait: Callable[[], None]) -> Iterator[Any]:
        with self.reader(url) as conn:
            name = f"schemashift:{conn.db.decode() if isinstance(conn.db, bytes) else conn.db}.{table}"[:64]
            _acquire(conn, name, lock_timeout, on_wait)
            try:
                _run(conn, _ddl(table))
                yield conn
            finally:
                with contextlib.suppress(pymysql.err.MySQLError):
                    _run(conn, "SELECT RELEASE_LOCK(%s)", [name])

    @contextlib.contextmanager
    def reader(self, url: str | None) -> Iterator[Any]:
        if not url:
            raise MigrationsError("no database URL: pass --url or set DATABASE_URL")
        conn = parse_url(url).connect()
        try:
            yield conn
        finally:
            conn.close()

    def has_history(self, conn: Any, table: HistoryTable) -> bool:
        return bool(_run(conn, "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
                               "AND table_name = %s", [table.flat_name]))

    def rows(self, conn: Any, table: HistoryTable) -> list[Row]:
        if not self.has_history(conn, table):
            return []
        found = _run(conn, f"SELECT {_COLUMNS} FROM {table_name(table)} ORDER BY id")
        return [Row(*r[:5], bool(r[5]), *r[6:]) for r in found]

    def record(self, conn: Any, table: HistoryTable, version: int, name: str, checksum: str, action: str) -> None:
        _insert(conn, table, version, name, checksum, action, True, 0, None, None)

    @contextlib.contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        conn.begin()
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def executor(self, conn: Any, table: HistoryTable, allow_changed: bool,
                 lock_retries: int = 0) -> MysqlExecutor:  # no lock_timeout step to retry
        return MysqlExecutor(conn, table, allow_changed)

    def durable(self, conn: Any) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def forget(self, conn: Any, table: HistoryTable) -> None:
        _run(conn, f"DROP TABLE IF EXISTS {table_name(table)}")

    def backup(self, conn: Any, url: str, path: Path, bin_dir: str | None) -> None:
        raise MigrationsError("--backup is not available on MySQL yet: take a mysqldump first")

    def script(self, project: Project, direction: str, to: str | None, steps: int | None) -> str:
        raise MigrationsError("--sql is not available on MySQL yet")


def _run(conn: Any, statement: str, args: list[object] | None = None) -> list[tuple]:
    with conn.cursor() as cur:
        return run(cur, statement, args)


def _acquire(conn: Any, name: str, timeout: float, on_wait: Callable[[], None]) -> None:
    deadline, waited = time.monotonic() + timeout, False
    while _run(conn, "SELECT GET_LOCK(%s, 0)", [name])[0][0] != 1:
        if time.monotonic() >= deadline:
            raise LockTimeout(f"another schemashift run has held the lock {name} for over {timeout:g}s "
                              "(raise --lock-timeout to wait longer)")
        if not waited:
            on_wait()
            waited = True
        time.sleep(random.uniform(*POLL_SECONDS))


def _insert(conn: Any, table: HistoryTable, version: int, name: str, checksum: str, action: str, success: bool,
            steps_done: int, duration_ms: int | None, error: str | None) -> int:
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table_name(table)} (version, name, checksum, action, success, steps_done, applied_by, "
                    "duration_ms, error) VALUES (%s, %s, %s, %s, %s, %s, CURRENT_USER(), %s, %s)",
                    [version, name, checksum, action, success, steps_done, duration_ms, error])
        return int(cur.lastrowid)


def _update(conn: Any, table: HistoryTable, row_id: int, **values: object) -> None:
    assignments = ", ".join(f"{quote(k)} = %s" for k in values)
    _run(conn, f"UPDATE {table_name(table)} SET {assignments} WHERE id = %s", [*values.values(), row_id])


@dataclass
class MysqlExecutor:
    """Each statement a step of its own, counted in the history row as it commits (see the module)."""

    conn: Any
    table: HistoryTable
    allow_changed: bool

    def run_all(self, chosen: list[MigrationFile], direction: str, state: State,
                announce: Callable[[str], None]) -> Iterator[tuple[MigrationFile, int]]:
        for migration in chosen:
            announce(migration.name)
            started = time.monotonic()
            self._run(migration, direction, state, started)
            yield migration, _ms(started)

    def _run(self, migration: MigrationFile, direction: str, state: State, started: float) -> None:
        if migration.is_python:
            return self._python(migration, direction, started)
        section = migration.section(direction)
        pieces = split(section.text)
        if not pieces and direction == "down":
            raise MigrationsError(f"{migration.path}: the down section is empty, nothing reverts it")
        resume = state.partial.get((migration.version, direction))
        done = resume.steps_done if resume else 0
        if resume is not None and resume.checksum != migration.checksum and not self.allow_changed \
                and self._steps_checksum(resume.id) != _steps_checksum(pieces[:done]):
            raise HistoryMismatch(f"{migration.path}: its first {done} statement(s), which ran in the interrupted "
                                  f"{direction}, changed since; pass --allow-changed to resume after them anyway")
        row_id = _insert(self.conn, self.table, migration.version, migration.name, migration.checksum, direction,
                         False, done, None, None)
        for index in range(done, len(pieces)):
            piece = pieces[index]
            try:
                _run(self.conn, piece.sql)
            except pymysql.err.MySQLError as exc:
                error = server_message(exc)
                with contextlib.suppress(pymysql.err.MySQLError):
                    _update(self.conn, self.table, row_id, error=error, duration_ms=_ms(started))
                raise MigrationFailed(str(migration.path), section.first_line + piece.line - 1, piece.sql, error) from None
            _update(self.conn, self.table, row_id, steps_done=index + 1,
                    steps_checksum=_steps_checksum(pieces[:index + 1]))
        _update(self.conn, self.table, row_id, success=True, duration_ms=_ms(started))

    def _steps_checksum(self, row_id: int) -> str | None:
        found = _run(self.conn, f"SELECT steps_checksum FROM {table_name(self.table)} WHERE id = %s", [row_id])
        return found[0][0] if found else None

    def _python(self, migration: MigrationFile, direction: str, started: float) -> None:
        try:
            python_migrations.call(migration, direction, self.conn)
        except MigrationFailed as exc:
            _insert(self.conn, self.table, migration.version, migration.name, migration.checksum, direction, False, 0,
                    _ms(started), exc.error)
            raise
        _insert(self.conn, self.table, migration.version, migration.name, migration.checksum, direction, True, 1,
                _ms(started), None)


def _steps_checksum(pieces: list[Piece]) -> str:
    """A hash of the statements' text, to know on resume whether those that ran are still the file's."""
    return hashlib.sha256("\0".join(p.sql for p in pieces).encode()).hexdigest()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
