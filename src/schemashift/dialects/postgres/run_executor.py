"""Run migrations in one direction and record each in the history table.

A migration of one transactional step (the usual case) runs with its history row in the same
transaction: it is applied and recorded together or not at all; a failure rolls it back and then
logs the failed attempt with its error. A migration of several steps (see steps) first logs an
attempt row and counts each committed step in it, in the step's own transaction where there is
one. When such a run fails or is killed, the next run resumes at the first step not counted: a
step that committed is never repeated, and only a non-transactional statement cut off between its
own commit and the count is run a second time (write those re-runnable, e.g. `IF NOT EXISTS`).

Consecutive migrations of one transactional step are sent in one pipeline: each is still its own
transaction (BEGIN, its statements, its history row, COMMIT), but the client never waits for one
before sending the next, so the server works while the client parses the next files, and each is
reported as its COMMIT's result arrives. After an error the server skips the rest of the pipeline:
the migrations before it stay committed, the failed one is rolled back and logged, the later ones
never ran, exactly as if they had been sent one by one. A history row's duration is measured by the server,
from its transaction's start to the row's insertion.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import NoReturn

import psycopg
from psycopg import pq, sql

from ...migrations.errors import HistoryMismatch, MigrationFailed, MigrationsError
from ...migrations.files import MigrationFile
from ...migrations.history import State
from .history_sql import TRANSACTION_DURATION, Bound, PgHistoryTable
from .online import clear_invalid_index, with_lock_retries
from .steps import Step, steps


@dataclass
class Executor:
    """Runs migrations on a locked autocommit session."""

    conn: psycopg.Connection
    table: PgHistoryTable
    allow_changed: bool = False
    lock_retries: int = 0  # times a step of a multi-step migration that hit its lock_timeout is run again

    def run_all(self, chosen: list[MigrationFile], direction: str, state: State,
                announce: Callable[[str], None]) -> Iterator[tuple[MigrationFile, int]]:
        """Apply (`up`) or revert (`down`) the migrations in order, yielding each with its duration in
        milliseconds once it has committed; `announce` names what is about to run. Files are parsed
        as they are reached, so a broken one stops the run after those before it."""
        plans = ((m, None if m.is_python else self._plan(m, direction)) for m in chosen)
        while (other := (yield from self._pipelined(plans, direction, announce))) is not None:
            migration, plan = other
            announce(migration.name)
            started = time.monotonic()
            if plan is None:
                self._run_python(migration, direction, started)
            else:
                self._run_steps(migration, direction, plan, state, started)
            yield migration, _ms(started)

    def _plan(self, migration: MigrationFile, direction: str) -> list[Step]:
        plan = steps(migration.section(direction), str(migration.path), self.conn.info.server_version)
        if not plan and direction == "down":
            raise MigrationsError(f"{migration.path}: the down section is empty, nothing reverts it")
        return plan

    def _pipelined(self, plans: Iterator[tuple[MigrationFile, list[Step] | None]], direction: str,
                   announce: Callable[[str], None]
                   ) -> Generator[tuple[MigrationFile, int], None, tuple[MigrationFile, list[Step] | None] | None]:
        """Send single-transaction migrations from `plans` down one pipeline (see the module's
        docstring) until one of another kind, which is returned (None at the end)."""
        batch: list[tuple[MigrationFile, Step]] = []
        sent: list[list[psycopg.Cursor]] = []  # per migration: its statements, its row, its COMMIT
        reported = 0
        failure: psycopg.Error | None = None
        unreadable: MigrationsError | None = None
        other = None
        started = time.monotonic()

        def committed() -> Iterator[tuple[MigrationFile, int]]:
            """Migrations whose COMMIT has succeeded since the last call, from the results the
            pipeline has already read: this never waits."""
            nonlocal reported
            while reported < len(sent) and len(sent[reported]) == len(batch[reported][1].statements) + 2 \
                    and _ok(sent[reported][-1]):  # all sent (none raised on its way) and committed
                yield batch[reported][0], sent[reported][-2].fetchone()[1]  # type: ignore[index]
                reported += 1
                if reported < len(batch):
                    announce(batch[reported][0].name)

        try:
            with self.conn.pipeline():
                while True:
                    try:
                        item = next(plans, None)
                    except MigrationsError as exc:
                        unreadable = exc
                        break
                    if item is None or item[1] is None or len(item[1]) != 1 or not item[1][0].transactional \
                            or item[1][0].bounded and self.lock_retries:  # retried: see _execute
                        other = item
                        if len(batch) - reported > 1:  # all in flight now; no result is read until the end
                            announce(f"{batch[reported][0].name} to {batch[-1][0].name}")
                        break
                    migration, (step,) = item[0], item[1]
                    if not batch:
                        announce(migration.name)
                    batch.append((migration, step))
                    sent.append(cursors := [])
                    self.conn.execute(b"BEGIN")
                    cursors.extend(self.conn.execute(s.sql.encode()) for s in step.statements)
                    cursors.append(self.conn.execute(*self._row(migration, direction, True, steps_done=1,
                                                                duration=TRANSACTION_DURATION, returning=True)))
                    cursors.append(self.conn.execute(b"COMMIT"))
                    yield from committed()
        except psycopg.Error as exc:
            failure = exc
        yield from committed()
        if reported < len(batch):
            assert failure is not None
            self._fail(batch[reported], sent[reported], direction, failure, started)
        if failure is not None:  # the connection broke before any migration was sent
            raise failure
        if unreadable is not None:
            raise unreadable
        return other

    def _fail(self, item: tuple[MigrationFile, Step], cursors: list[psycopg.Cursor], direction: str,
              failure: psycopg.Error, started: float) -> NoReturn:
        """Roll back and log the pipelined migration that failed, naming its first statement without
        a result; past its last statement, the row or the COMMIT failed (a deferred constraint)."""
        migration, step = item
        if self.conn.broken:  # no result came back, so no statement can be blamed; the history tells
            raise MigrationsError(f"{migration.path}: the connection was lost before the server confirmed "
                                  "this or any later migration sent (each committed with its history row or not "
                                  f"at all; `schemashift status` tells): {str(failure).strip()}")
        with contextlib.suppress(psycopg.Error):  # a broken connection: the migration's error wins
            if self.conn.info.transaction_status == pq.TransactionStatus.INERROR:
                self.conn.execute(b"ROLLBACK")
        error = failure.diag.message_primary or str(failure).strip()
        ran = next((i for i, cursor in enumerate(cursors) if not _ok(cursor)), len(cursors))
        statement = step.statements[ran] if ran < len(step.statements) else None
        self._log(self._row(migration, direction, False, started=started, error=error))
        raise MigrationFailed(str(migration.path), (statement or step.statements[-1]).line,
                              statement.sql if statement else "COMMIT", error)

    def _run_steps(self, migration: MigrationFile, direction: str, plan: list[Step], state: State,
                   started: float) -> None:
        resume = state.partial.get((migration.version, direction))
        if resume is not None and resume.checksum != migration.checksum and not self.allow_changed:
            raise HistoryMismatch(f"{migration.path}: changed since its interrupted {direction} "
                                  f"({resume.steps_done} of {len(plan)} steps done); if those steps are "
                                  "unchanged, pass --allow-changed to resume after them")
        done = resume.steps_done if resume else 0
        row = self._row(migration, direction, False, steps_done=done, returning=True)
        fetched = self.conn.execute(*row).fetchone()
        assert fetched is not None
        row_id = fetched[0]
        for index in range(done, len(plan)):
            try:
                self._execute(migration, plan[index], self.table.update(row_id, steps_done=index + 1))
            except MigrationFailed as exc:
                self._log(self.table.update(row_id, error=exc.error, duration_ms=_ms(started)))
                raise
        self.conn.execute(*self.table.update(row_id, success=True, duration_ms=_ms(started)))

    def _execute(self, migration: MigrationFile, step: Step, record: Bound) -> None:
        """One step of a multi-step migration and its count in the history row: together in a
        transaction, or the statement alone in autocommit and then the count. A concurrent index
        build first drops the INVALID index a failed build left; a step that hits its lock_timeout
        is run again (`lock_retries`)."""
        with_lock_retries(lambda retryable: self._attempt(migration, step, record, retryable), self.lock_retries)

    def _attempt(self, migration: MigrationFile, step: Step, record: Bound, retryable: bool) -> None:
        with self.conn.transaction() if step.transactional else contextlib.nullcontext():
            for statement in step.statements:
                try:
                    if not step.transactional:
                        clear_invalid_index(self.conn, statement.sql)
                    self.conn.execute(statement.sql.encode())
                except psycopg.Error as exc:
                    if retryable and isinstance(exc, psycopg.errors.LockNotAvailable):
                        raise  # rolled back, run again by with_lock_retries
                    error = exc.diag.message_primary or str(exc).strip()
                    raise MigrationFailed(str(migration.path), statement.line, statement.sql, error) from None
            self.conn.execute(*record)

    def _run_python(self, migration: MigrationFile, direction: str, started: float) -> None:
        try:
            with self.conn.transaction():
                function = getattr(migration.load_module(), direction, None)
                if function is None:
                    raise MigrationsError(f"{migration.path}: defines no {direction}(conn)")
                function(self.conn)
                self.conn.execute(*self._row(migration, direction, True, steps_done=1, started=started))
        except MigrationsError:
            raise
        except Exception as exc:
            line = _line_in(exc, migration)
            error = f"{type(exc).__name__}: {exc}".strip()
            self._log(self._row(migration, direction, False, started=started, error=error))
            raise MigrationFailed(str(migration.path), line, f"{direction}()", error) from None

    def _log(self, statement: Bound) -> None:
        """Record a failure; if the connection itself is gone, the migration's error still wins."""
        with contextlib.suppress(psycopg.Error):
            self.conn.execute(*statement)

    def _row(self, migration: MigrationFile, direction: str, success: bool, *, steps_done: int = 0,
             started: float | None = None, duration: sql.Composable | None = None, error: str | None = None,
             returning: bool = False) -> Bound:
        return self.table.insert(
            migration.version, migration.name, migration.checksum, direction, success=success,
            steps_done=steps_done, duration_ms=duration if started is None else _ms(started), error=error,
            returning=returning,
        )


def _ok(cursor: psycopg.Cursor) -> bool:
    return cursor.pgresult is not None and cursor.pgresult.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _line_in(exc: BaseException, migration: MigrationFile) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(migration.path)]
    return frames[-1].lineno if frames else None
