"""The public Python API (re-exported from `schemashift`): inspect, diff, apply, Migration.

`Migration` keeps migra's documented interface (`set_safety`, `add_all_changes`, `statements`,
`sql`, `apply`) so scripts written for migra keep working.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg

from . import differ
from .dialects.postgres.dialect import PostgresDialect
from .dialects.postgres.inspect import InspectOptions
from .dialects.postgres.online import (
    OnlineOptions,
    clear_invalid_index,
    online_plan,
    starts_transaction,
    with_lock_retries,
)
from .errors import SchemashiftError, UnsafeChanges
from .gcpause import gc_paused
from .model import Schema
from .plan import Plan, Statement
from .server_match import for_comparison
from .sources import URL_PREFIXES, connect, open_source

DIALECT = PostgresDialect()

Source = str | psycopg.Connection


def _options(schemas: list[str] | tuple[str, ...] | str | None, exclude_schemas: list[str] | tuple[str, ...] | str | None,
             ignore_extension_versions: bool = False) -> InspectOptions:
    def as_tuple(v: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
        return (v,) if isinstance(v, str) else tuple(v or ())

    return InspectOptions(as_tuple(schemas), as_tuple(exclude_schemas), ignore_extension_versions)


@contextlib.contextmanager
def _connected(source: Source, dev_url: str | None, pg_bin: str | None) -> Iterator[psycopg.Connection]:
    if isinstance(source, psycopg.Connection):
        yield source
        return
    if source.startswith(URL_PREFIXES):  # a live database: one connection, no separate check
        with connect(source, autocommit=True) as conn:
            yield conn
        return
    with open_source(source, dev_url=dev_url, pg_bin=pg_bin) as url, connect(url, autocommit=True) as conn:
        yield conn


def inspect(source: Source, *, schemas: list[str] | str | None = None, exclude_schemas: list[str] | str | None = None,
            ignore_extension_versions: bool = False, ignore_tables: Sequence[str] = (), dev_url: str | None = None,
            pg_bin: str | None = None) -> Schema:
    """The schema model of a source: a URL, a `.sql` file or folder, `empty`, `migrations:DIR`,
    `python:pkg.module:metadata`, or a psycopg connection. `ignore_tables` (`schema.name`) are left
    out with everything on them: schemashift's history table is bookkeeping, not schema."""
    with _connected(source, dev_url, pg_bin) as conn:
        schema = DIALECT.inspect(conn, _options(schemas, exclude_schemas, ignore_extension_versions))
    for table in ignore_tables:
        namespace, _, name = table.rpartition(".")
        schema = schema.without_table(namespace or "public", name)
    return schema


def diff_schemas(source: Schema, target: Schema, *, privileges: bool = True,
                 online: OnlineOptions | None = None) -> Plan:
    """The ordered plan between two inspected schemas (drops included; see `Plan.check_safe`);
    with `online`, in its lock-light form (see `dialects.postgres.online`)."""
    with gc_paused():
        plan = DIALECT.render(differ.diff(source, target, DIALECT), source, target)
    if not privileges:
        plan.statements = [s for s in plan.statements if s.kind != "grant"]
    return plan if online is None else online_plan(plan, source, target, online)


def diff(source: Source, target: Source, *, schemas: list[str] | str | None = None,
         exclude_schemas: list[str] | str | None = None, ignore_extension_versions: bool = False,
         ignore_tables: Sequence[str] = (), privileges: bool = True, dev_url: str | None = None,
         pg_bin: str | None = None, online: OnlineOptions | None = None) -> Plan:
    """The plan that turns `source` into `target`.

    Both sides are inspected at once, on two threads: each mostly waits on its server (psycopg
    releases the GIL meanwhile), so the two inspections overlap instead of adding up. One
    connection given as both sides is read once at a time: a connection runs one transaction.
    """
    pg_bin = for_comparison([source, target], dev_url, pg_bin)
    opts = dict(schemas=schemas, exclude_schemas=exclude_schemas, ignore_extension_versions=ignore_extension_versions,
                ignore_tables=ignore_tables, dev_url=dev_url, pg_bin=pg_bin)

    def prepared(side: Source, as_source: bool) -> Schema:
        return inspect(side, **opts).prepare(as_source=as_source)  # type: ignore[arg-type]

    with gc_paused(), ThreadPoolExecutor(max_workers=1 if source is target else 2) as pool:
        sides = [pool.submit(prepared, side, as_source) for side, as_source in ((source, True), (target, False))]
        return diff_schemas(sides[0].result(), sides[1].result(), privileges=privileges, online=online)


def apply(plan: Plan | list[Statement], target: Source, *, lock_retries: int = 0) -> None:
    """Run a plan: transactional statements together, each non-transactional one on its own, and
    each `SET LOCAL lock_timeout` of an online plan starts a transaction of its own, retried up to
    `lock_retries` times when it hits the timeout.

    A failure rolls back the transaction it happened in; statements already committed on their own
    (e.g. `ALTER TYPE … ADD VALUE`) stay, as PostgreSQL gives no way to undo them in a transaction.
    """
    statements = plan.statements if isinstance(plan, Plan) else plan
    with _connected(target, None, None) as conn:
        conn.execute("SET check_function_bodies = off")  # bodies may name objects created later
        batch: list[Statement] = []
        for st in statements:
            if st.transactional:
                if starts_transaction(st):
                    _run_batch(conn, batch, lock_retries)
                    batch = []
                batch.append(st)
                continue
            _run_batch(conn, batch, lock_retries)
            batch = []
            _run_alone(conn, st, lock_retries)
        _run_batch(conn, batch, lock_retries)


def _run_batch(conn: psycopg.Connection, batch: list[Statement], lock_retries: int = 0) -> None:
    if not batch:
        return

    def attempt(retryable: bool) -> None:
        with conn.transaction():
            for st in batch:
                _run(conn, st, retryable)

    with_lock_retries(attempt, lock_retries)


def _run_alone(conn: psycopg.Connection, st: Statement, lock_retries: int) -> None:
    """A non-transactional statement; a concurrent index build first clears a failed one's leftover."""

    def attempt(retryable: bool) -> None:
        clear_invalid_index(conn, st.sql)
        _run(conn, st, retryable)

    with_lock_retries(attempt, lock_retries)


def _run(conn: psycopg.Connection, st: Statement, retryable: bool = False) -> None:
    try:
        conn.execute(st.sql.encode())  # bytes: sent as-is, no client-side placeholder parsing
    except psycopg.Error as exc:
        if retryable and isinstance(exc, psycopg.errors.LockNotAvailable):
            raise  # rolled back, and run again by with_lock_retries
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemashiftError(f"applying `{st.sql.splitlines()[0][:120]}` failed: {message}") from None


class Migration:
    """migra's `Migration`: the changes from `x_from` to `x_target`, guarded by a safety switch."""

    def __init__(self, x_from: Source, x_target: Source, schema: str | None = None,
                 exclude_schema: str | None = None, ignore_extension_versions: bool = False) -> None:
        self.x_from, self.x_target = x_from, x_target
        self._options = dict(schemas=schema, exclude_schemas=exclude_schema,
                             ignore_extension_versions=ignore_extension_versions,
                             pg_bin=for_comparison([x_from, x_target], None, None))
        self.s_from = inspect(x_from, **self._options)  # type: ignore[arg-type]
        self.s_target = inspect(x_target, **self._options)  # type: ignore[arg-type]
        self.safety = True
        self._statements: list[Statement] = []

    def set_safety(self, safety_on: bool) -> None:
        self.safety = safety_on

    def add_all_changes(self, privileges: bool = False) -> None:
        self._statements += diff_schemas(self.s_from, self.s_target, privileges=privileges).statements

    def add_sql(self, statement: str) -> None:
        self._statements.append(Statement(statement.strip().rstrip(";"), "sql", ("sql",)))

    def add(self, statements: list[Statement]) -> None:
        self._statements += statements

    def clear(self) -> None:
        self._statements = []

    @property
    def plan(self) -> Plan:
        plan = Plan(list(self._statements))
        if self.safety:
            plan.check_safe()
        return plan

    @property
    def statements(self) -> list[str]:
        return [s.sql + ";" for s in self.plan.statements]

    @property
    def sql(self) -> str:
        return self.plan.sql

    def apply(self) -> None:
        """Run the statements on `x_from`, then re-inspect it so the object stays usable."""
        apply(self.plan, self.x_from)
        self.s_from = inspect(self.x_from, **self._options)  # type: ignore[arg-type]
        self.clear()


__all__ = ["Migration", "UnsafeChanges", "apply", "diff", "diff_schemas", "inspect"]
