"""The public Python API (re-exported from `schemashift`): inspect, diff, apply, Migration.

`Migration` keeps migra's documented interface (`set_safety`, `add_all_changes`, `statements`,
`sql`, `apply`) so scripts written for migra keep working.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from . import dialects, differ, schema_cache
from .dialects.base import Dialect, InspectOptions, ScratchServer
from .errors import SourceError, UnsafeChanges
from .model import Schema
from .plan import Plan, Statement
from .runtime.gcpause import gc_paused
from .sources import open_source, source_text

if TYPE_CHECKING:
    from .online_flags import OnlineOptions

# A source spec (URL, database file, .sql file or folder, `empty`, `migrations:DIR`, `python:…`) or a
# connection of one of the dialects' drivers (psycopg, sqlite3, …).
Source = str | Any


def _options(schemas: list[str] | tuple[str, ...] | str | None, exclude_schemas: list[str] | tuple[str, ...] | str | None,
             ignore_extension_versions: bool = False) -> InspectOptions:
    def as_tuple(v: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
        return (v,) if isinstance(v, str) else tuple(v or ())

    return InspectOptions(as_tuple(schemas), as_tuple(exclude_schemas), ignore_extension_versions)


@contextlib.contextmanager
def _connected(source: Source, dialect: Dialect, server: ScratchServer) -> Iterator[Any]:
    if not isinstance(source, str):
        yield source
        return
    if dialects.claimed_by(source):  # a live database: one connection, no separate check
        with contextlib.closing(dialect.connect(source)) as conn:
            yield conn
        return
    with open_source(source, dialect, server) as url, contextlib.closing(dialect.connect(url)) as conn:
        yield conn


def inspect(source: Source, *, schemas: list[str] | str | None = None, exclude_schemas: list[str] | str | None = None,
            ignore_extension_versions: bool = False, ignore_tables: Sequence[str] = (), dev_url: str | None = None,
            pg_bin: str | None = None, dialect: str | None = None) -> Schema:
    """The schema model of a source: a URL or database file, a `.sql` file or folder, `empty`,
    `migrations:DIR`, `python:pkg.module:metadata`, or a connection. `dialect` names the engine for
    sources that do not name one themselves (default PostgreSQL). `ignore_tables` (`schema.name`)
    are left out with everything on them: schemashift's history table is bookkeeping, not schema."""
    engine = dialects.choose([source], dialect)
    server, options = ScratchServer(dev_url, pg_bin), _options(schemas, exclude_schemas, ignore_extension_versions)
    identity = engine.scratch_identity(server) if isinstance(source, str) else None
    entry = schema_cache.key(engine.name, identity, options, source_text(source, engine)) if identity else None
    schema = schema_cache.get(entry)
    if schema is None:
        with _connected(source, engine, server) as conn:
            schema = _read(engine, conn, options) if isinstance(source, str) else engine.inspect(conn, options)
        schema_cache.put(entry, schema)
    for table in ignore_tables:
        schema = schema.without_table(*engine.table_named(table))
    return schema


def _read(engine: Dialect, conn: Any, options: InspectOptions) -> Schema:
    """The schema of `conn`'s database: kept from an earlier call when its catalogs are as they
    were then (`Dialect.catalog_state`), else inspected, and kept when they did not change while
    it was read."""
    if not schema_cache.enabled():
        return engine.inspect(conn, options)
    state = engine.catalog_state(conn)
    entry = schema_cache.key(engine.name, options, state)
    schema = schema_cache.get(entry)
    if schema is None:
        schema = engine.inspect(conn, options)
        if entry is not None and engine.catalog_state(conn) == state:
            schema_cache.put(entry, schema)
    return schema


def diff_schemas(source: Schema, target: Schema, *, privileges: bool = True, online: OnlineOptions | None = None,
                 locks: bool = True) -> Plan:
    """The ordered plan between two inspected schemas of one dialect (drops included; see `Plan.check_safe`);
    with `online`, in its lock-light form (PostgreSQL: see `dialects.postgres.online`); with `locks`,
    each statement's `locks` label filled in (callers that show none pass False: it is a third of
    the cost of a large diff)."""
    if source.dialect != target.dialect:
        raise SourceError(f"cannot mix dialects in one command: {source.dialect} and {target.dialect}")
    engine = dialects.by_name(source.dialect)
    with gc_paused():
        plan = engine.render(differ.diff(source, target, engine), source, target)
    if not privileges:
        plan.statements = [s for s in plan.statements if s.kind != "grant"]
    if online is not None:
        online_form = getattr(engine, "online_plan", None)  # PostgreSQL's; other engines have none yet
        if online_form is None:
            raise SourceError(f"--online is not available for {source.dialect}")
        plan = online_form(plan, source, target, online)
    return engine.label_locks(plan, source, target) if locks else plan


def diff(source: Source, target: Source, *, schemas: list[str] | str | None = None,
         exclude_schemas: list[str] | str | None = None, ignore_extension_versions: bool = False,
         ignore_tables: Sequence[str] = (), privileges: bool = True, dev_url: str | None = None,
         pg_bin: str | None = None, dialect: str | None = None, online: OnlineOptions | None = None,
         locks: bool = True) -> Plan:
    """The plan that turns `source` into `target`.

    Both sides are inspected at once, on two threads: each mostly waits on its server (the drivers
    release the GIL meanwhile), so the two inspections overlap instead of adding up. One
    connection given as both sides is read once at a time: a connection runs one transaction.
    """
    engine = dialects.choose([source, target], dialect)
    server = engine.for_comparison([source, target], ScratchServer(dev_url, pg_bin))
    opts = dict(schemas=schemas, exclude_schemas=exclude_schemas, ignore_extension_versions=ignore_extension_versions,
                ignore_tables=ignore_tables, dev_url=server.dev_url, pg_bin=server.bin_dir, dialect=engine.name)

    def prepared(side: Source, as_source: bool) -> Schema:
        return inspect(side, **opts).prepare(as_source=as_source)  # type: ignore[arg-type]

    with gc_paused(), ThreadPoolExecutor(max_workers=1 if source is target else 2) as pool:
        sides = [pool.submit(prepared, side, as_source) for side, as_source in ((source, True), (target, False))]
        return diff_schemas(sides[0].result(), sides[1].result(), privileges=privileges, online=online, locks=locks)


def apply(plan: Plan | list[Statement], target: Source, *, dialect: str | None = None, lock_retries: int = 0) -> None:
    """Run a plan on `target` the way the engine's own client would run its SQL (see each
    dialect's `apply`: on PostgreSQL, transactional statements together and each non-transactional
    one on its own); a transaction that hits its lock_timeout is run again up to `lock_retries` times."""
    engine = dialects.choose([target], dialect)
    with _connected(target, engine, ScratchServer()) as conn:
        engine.apply(plan if isinstance(plan, Plan) else Plan(list(plan)), conn, lock_retries=lock_retries)


class Migration:
    """migra's `Migration`: the changes from `x_from` to `x_target`, guarded by a safety switch."""

    def __init__(self, x_from: Source, x_target: Source, schema: str | None = None,
                 exclude_schema: str | None = None, ignore_extension_versions: bool = False) -> None:
        self.x_from, self.x_target = x_from, x_target
        server = dialects.choose([x_from, x_target]).for_comparison([x_from, x_target], ScratchServer())
        self._options = dict(schemas=schema, exclude_schemas=exclude_schema,
                             ignore_extension_versions=ignore_extension_versions, pg_bin=server.bin_dir)
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
