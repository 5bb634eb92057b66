"""Run one migration in one direction and record it.

A migration of one transactional step (the usual case) runs with its history row in the same
transaction: it is applied and recorded together or not at all; a failure rolls it back and then
logs the failed attempt with its error. A migration of several steps (see splitter) first logs an
attempt row and counts each committed step in it, in the step's own transaction where there is
one. When such a run fails or is killed, the next run resumes at the first step not counted: a
step that committed is never repeated, and only a non-transactional statement cut off between its
own commit and the count is run a second time (write those re-runnable, e.g. `IF NOT EXISTS`).

A transactional step is sent as one pipeline (BEGIN, its statements, the history statement, COMMIT)
and costs one round trip; the first statement without a result is the one that failed. Its history
row's duration is measured by the server, from the transaction's start to the row's insertion.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from dataclasses import dataclass

import psycopg
from psycopg import pq, sql

from .errors import HistoryMismatch, MigrationFailed, MigrationsError
from .files import MigrationFile
from .history import TRANSACTION_DURATION, HistoryTable, State
from .splitter import Step, steps


@dataclass
class Executor:
    """Runs migrations on a locked autocommit session."""

    conn: psycopg.Connection
    table: HistoryTable
    allow_changed: bool = False

    def run(self, migration: MigrationFile, direction: str, state: State) -> int:
        """Apply (`up`) or revert (`down`) the migration; return its duration in milliseconds."""
        started = time.monotonic()
        if migration.is_python:
            self._run_python(migration, direction, started)
        else:
            plan = steps(migration.section(direction), str(migration.path), self.conn.info.server_version)
            if not plan and direction == "down":
                raise MigrationsError(f"{migration.path}: the down section is empty, nothing reverts it")
            if len(plan) == 1 and plan[0].transactional:
                self._run_single(migration, direction, plan[0], started)
            else:
                self._run_steps(migration, direction, plan, state, started)
        return _ms(started)

    def _run_single(self, migration: MigrationFile, direction: str, step: Step, started: float) -> None:
        try:
            self._execute(migration, step, self._row(migration, direction, True, steps_done=1,
                                                     duration=TRANSACTION_DURATION))
        except MigrationFailed as exc:
            self._log(self._row(migration, direction, False, started=started, error=exc.error))
            raise

    def _run_steps(self, migration: MigrationFile, direction: str, plan: list[Step], state: State,
                   started: float) -> None:
        resume = state.partial.get((migration.version, direction))
        if resume is not None and resume.checksum != migration.checksum and not self.allow_changed:
            raise HistoryMismatch(f"{migration.path}: changed since its interrupted {direction} "
                                  f"({resume.steps_done} of {len(plan)} steps done); if those steps are "
                                  "unchanged, pass --allow-changed to resume after them")
        done = resume.steps_done if resume else 0
        row = self._row(migration, direction, False, steps_done=done, returning=True)
        fetched = self.conn.execute(row).fetchone()
        assert fetched is not None
        row_id = fetched[0]
        for index in range(done, len(plan)):
            try:
                self._execute(migration, plan[index], self.table.update(row_id, steps_done=index + 1))
            except MigrationFailed as exc:
                self._log(self.table.update(row_id, error=exc.error, duration_ms=_ms(started)))
                raise
        self.conn.execute(self.table.update(row_id, success=True, duration_ms=_ms(started)))

    def _execute(self, migration: MigrationFile, step: Step, record: sql.Composed) -> None:
        """Run the step, then `record` (its history statement): for a transactional step, BEGIN, both
        and COMMIT go in one pipeline (one round trip; an error skips the rest and is rolled back);
        else the statement in autocommit, then the record. A failure names the step's first
        statement that did not complete."""
        sent: list[psycopg.Cursor] = []
        try:
            with self.conn.pipeline() if step.transactional else contextlib.nullcontext():
                if step.transactional:
                    self.conn.execute(b"BEGIN")
                for statement in step.statements:
                    sent.append(self.conn.execute(statement.sql.encode()))
                self.conn.execute(record)
                if step.transactional:
                    self.conn.execute(b"COMMIT")
        except psycopg.Error as exc:
            if self.conn.info.transaction_status == pq.TransactionStatus.INERROR:
                self.conn.execute(b"ROLLBACK")
            error = exc.diag.message_primary or str(exc).strip()
            ran = next((i for i, cursor in enumerate(sent) if cursor.pgresult is None), len(sent))
            if ran == len(step.statements):  # the record or the COMMIT failed (a deferred constraint)
                raise MigrationFailed(str(migration.path), step.statements[-1].line, "COMMIT", error) from None
            statement = step.statements[ran]
            raise MigrationFailed(str(migration.path), statement.line, statement.sql, error) from None

    def _run_python(self, migration: MigrationFile, direction: str, started: float) -> None:
        try:
            with self.conn.transaction():
                function = getattr(migration.load_module(), direction, None)
                if function is None:
                    raise MigrationsError(f"{migration.path}: defines no {direction}(conn)")
                function(self.conn)
                self.conn.execute(self._row(migration, direction, True, steps_done=1, started=started))
        except MigrationsError:
            raise
        except Exception as exc:
            line = _line_in(exc, migration)
            error = f"{type(exc).__name__}: {exc}".strip()
            self._log(self._row(migration, direction, False, started=started, error=error))
            raise MigrationFailed(str(migration.path), line, f"{direction}()", error) from None

    def _log(self, statement: sql.Composed) -> None:
        """Record a failure; if the connection itself is gone, the migration's error still wins."""
        with contextlib.suppress(psycopg.Error):
            self.conn.execute(statement)

    def _row(self, migration: MigrationFile, direction: str, success: bool, *, steps_done: int = 0,
             started: float | None = None, duration: sql.Composable | None = None, error: str | None = None,
             returning: bool = False) -> sql.Composed:
        return self.table.insert(
            migration.version, migration.name, migration.checksum, direction, success=success,
            steps_done=steps_done, duration_ms=duration if started is None else _ms(started), error=error,
            returning=returning,
        )


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _line_in(exc: BaseException, migration: MigrationFile) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(migration.path)]
    return frames[-1].lineno if frames else None
