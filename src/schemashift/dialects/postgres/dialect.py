"""The PostgreSQL dialect: what can be altered in place, what owns what, and rendering a diff."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

import psycopg

from ...differ import Alter, Change, Create, Drop, Rename
from ...model import (
    Collation,
    Column,
    Constraint,
    DbObject,
    Domain,
    EnumType,
    EventTrigger,
    Extension,
    Function,
    Index,
    Key,
    Policy,
    Publication,
    RangeType,
    Rule,
    Schema,
    Sequence,
    Statistics,
    Table,
    TextSearchConfiguration,
    TextSearchDictionary,
    Trigger,
    View,
)
from ...errors import SchemashiftError
from ...plan import Plan, Statement, order
from ...sqlfiles import SqlFile
from ..base import InspectOptions, ScratchServer
from . import connection, loader, render_code, render_tables, render_text_search, render_types  # noqa: F401  (render_* register renderers)
from .inspect import inspect_connection
from ...online_flags import OnlineOptions
from .catalog_state import catalog_state
from .locks import label_plan
from .online import clear_invalid_index, online_plan, starts_transaction, with_lock_retries
from .run_backend import PostgresRunBackend
from .server_match import for_comparison
from .servers import get_server
from .render_core import ALTER, CREATE, DROP, RENAME, Context, lookup
from .render_types import enum_is_extended


def _bare(obj: DbObject) -> DbObject:
    """The object without what COMMENT / GRANT can change."""
    return replace(obj, comment=None, acl=frozenset())


def _without_not_valid(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


class PostgresDialect:
    name = "postgresql"
    sqlalchemy_url = "postgresql+psycopg://"

    def connect(self, url: str) -> psycopg.Connection:
        return connection.connect(url, autocommit=True)

    def empty(self, server: ScratchServer) -> AbstractContextManager[str]:
        return get_server(server.dev_url, server.bin_dir).scratch_database()

    def loaded(self, files: list[SqlFile], server: ScratchServer) -> AbstractContextManager[str]:
        return loader.loaded(get_server(server.dev_url, server.bin_dir), files)

    def replayed(self, folder: Path, to: int | None, history_table: str,
                 server: ScratchServer) -> AbstractContextManager[str]:
        """A migrations folder replayed from the longest prefix kept as a template (replay_cache)."""
        from .replay_cache import replayed

        return replayed(get_server(server.dev_url, server.bin_dir), folder, to, history_table)

    def scratch_identity(self, server: ScratchServer) -> str | None:
        return None  # loaded files are kept as template databases on the server (template_cache)

    def for_comparison(self, sources: Iterable[object], server: ScratchServer) -> ScratchServer:
        return replace(server, bin_dir=for_comparison(sources, server.dev_url, server.bin_dir))

    def inspect(self, conn: psycopg.Connection, options: InspectOptions | None = None) -> Schema:
        return inspect_connection(conn, options)

    def catalog_state(self, conn: psycopg.Connection) -> str | None:
        return catalog_state(conn)

    def run_backend(self) -> PostgresRunBackend:
        return PostgresRunBackend()

    def table_named(self, spec: str) -> tuple[str, str]:
        schema, _, name = spec.rpartition(".")
        return schema or "public", name

    def can_alter(self, old: DbObject, new: DbObject) -> bool:
        """False when PostgreSQL has no ALTER for the difference: drop and create instead."""
        if isinstance(old, Table) and isinstance(new, Table):
            return (old.partitioned, old.partition_key) == (new.partitioned, new.partition_key)
        if isinstance(old, Constraint) and isinstance(new, Constraint):
            same = old.definition == new.definition
            validated = old.definition.endswith(" NOT VALID") and _without_not_valid(old.definition) == new.definition
            return old.type == new.type and (same or validated) and old.index_parent in (None, new.index_parent)
        if isinstance(old, View) and isinstance(new, View):
            if old.materialized or new.materialized:
                return _bare(old) == _bare(new) or (old.materialized == new.materialized
                                                    and old.definition == new.definition
                                                    and old.populated == new.populated)
            return new.columns[: len(old.columns)] == old.columns
        if isinstance(old, Function) and isinstance(new, Function):
            same_shape = (old.result, old.argument_names, old.prokind) == (new.result, new.argument_names, new.prokind)
            return same_shape and (old.prokind != "a" or old.definition == new.definition)
        if isinstance(old, Domain) and isinstance(new, Domain):
            return (old.base_type, old.collation) == (new.base_type, new.collation)
        if isinstance(old, Trigger | Rule):
            return replace(_bare(old), enabled="O") == replace(_bare(new), enabled="O")  # type: ignore[type-var]
        if isinstance(old, Policy) and isinstance(new, Policy):
            # ALTER POLICY can replace a USING or WITH CHECK clause but never take one away
            kept = (old.using is None or new.using is not None) and (old.check is None or new.check is not None)
            return (old.permissive, old.command) == (new.permissive, new.command) and kept
        if isinstance(old, EventTrigger):
            return replace(_bare(old), enabled="O") == replace(_bare(new), enabled="O")  # type: ignore[type-var]
        if isinstance(old, Extension) and isinstance(new, Extension):
            return old.version == new.version or new.version is None or new.version in old.updatable_to
        if isinstance(old, Statistics) and isinstance(new, Statistics):
            return old.definition == new.definition
        if isinstance(old, Index) and isinstance(new, Index):  # attaching to a parent is an ALTER
            return replace(_bare(old), parent=None, parent_key=None) == replace(_bare(new), parent=None, parent_key=None) \
                and old.parent in (None, new.parent)
        if isinstance(old, TextSearchDictionary) and isinstance(new, TextSearchDictionary):
            return old.template == new.template
        if isinstance(old, TextSearchConfiguration) and isinstance(new, TextSearchConfiguration):
            return old.parser == new.parser
        if isinstance(old, Collation | Publication):
            return _bare(old) == _bare(new)
        return True

    def owners(self, obj: DbObject) -> tuple[Key, ...]:
        """What takes `obj` with it when dropped: its table (or column), and for a partition's
        attached index or constraint also the parent's."""
        if isinstance(obj, Constraint):
            up = obj.attached_key
            return (("table", obj.schema, obj.table),) + ((up,) if up else ())
        if isinstance(obj, Trigger | Policy | Rule):
            return (("table", obj.schema, obj.table),)
        if isinstance(obj, Index):
            table = ("view" if obj.on_view else "table", obj.schema, obj.table)
            return (table,) + ((obj.parent_key,) if obj.parent_key else ())
        if isinstance(obj, Sequence) and obj.owned_by:
            return (("column", *obj.owned_by),)
        return ()

    def without_owner(self, obj: DbObject) -> DbObject:
        """The object freed from the table or column it goes with (a sequence's OWNED BY NONE);
        `obj` itself when it has none to leave."""
        return replace(obj, owned_by=None) if isinstance(obj, Sequence) and obj.owned_by else obj

    def rename_identity(self, obj: DbObject) -> tuple[object, ...] | None:
        """A partition's attached index or constraint cannot be dropped alone: when only its name
        differs, it is renamed. Its identity is its parent, its table and its definition."""
        if isinstance(obj, Index) and obj.parent_key:
            return ("index", obj.parent_key, obj.schema, obj.table, obj.definition.split(" ON ", 1)[1])
        if isinstance(obj, Constraint) and obj.parent:
            return ("constraint", obj.parent, obj.schema, obj.table, obj.definition)
        return None

    def rebuilt_by_column_type_change(self, key: Key) -> bool:
        """PostgreSQL refuses ALTER COLUMN TYPE under these: drop and recreate them around it."""
        return key[0] in ("view", "rule", "policy", "trigger")

    def recreates_column(self, table: Table, old: Column, new: Column, source: Schema, target: Schema) -> bool:
        """A type change with no conversion drops the column and adds it again (render_tables)."""
        return render_tables.no_conversion(table, old, new, Context(source, target))

    def retypes_columns(self, old: DbObject, new: DbObject) -> bool:
        """An enum losing or reordering labels, or a range changed, is rebuilt, which retypes every column of it."""
        if isinstance(old, RangeType) and isinstance(new, RangeType):  # rebuilt: see render_types.alter_range
            return _bare(old) != _bare(new)
        return isinstance(old, EnumType) and isinstance(new, EnumType) and not enum_is_extended(old, new)

    def render(self, changes: list[Change], source: Schema, target: Schema) -> Plan:
        ctx = Context(source, target)
        statements: list[Statement] = []
        implied: list[tuple[tuple[Key, ...], bool, Statement]] = []
        for change in changes:
            if isinstance(change, Create):
                statements += lookup(CREATE, change.new, "create")(change.new, ctx)
            elif isinstance(change, Drop) and change.implied:
                owners = self.owners(change.old)
                alone = not _attached(change.old)
                implied += [(owners, alone, s) for s in lookup(DROP, change.old, "drop")(change.old, ctx)]
            elif isinstance(change, Drop):
                statements += lookup(DROP, change.old, "drop")(change.old, ctx)
            elif isinstance(change, Alter):
                statements += lookup(ALTER, change.new, "alter")(change.old, change.new, ctx)
            elif isinstance(change, Rename):
                statements += lookup(RENAME, change.new, "rename")(change.old, change.new, ctx)
        return order(_fold_implied(statements, implied))

    def online_plan(self, plan: Plan, source: Schema, target: Schema, options: OnlineOptions) -> Plan:
        """The plan's lock-light form (`--online`; see online.py)."""
        return online_plan(plan, source, target, options)

    def label_locks(self, plan: Plan, source: Schema, target: Schema) -> Plan:
        """Every statement's `locks` filled in (see locks.py)."""
        return label_plan(plan, Context(source, target))

    def apply(self, plan: Plan, conn: psycopg.Connection, *, lock_retries: int = 0) -> None:
        """Transactional statements together, each non-transactional one on its own, and each
        `SET LOCAL lock_timeout` of an online plan starts a transaction of its own, run again up to
        `lock_retries` times when it hits the timeout.

        A failure rolls back the transaction it happened in; statements already committed on their
        own (e.g. `ALTER TYPE … ADD VALUE`) stay, as PostgreSQL gives no way to undo them in a
        transaction.
        """
        conn.execute("SET check_function_bodies = off")  # bodies may name objects created later
        batch: list[Statement] = []
        for st in plan.statements:
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


def _attached(obj: DbObject) -> bool:
    """A partition's index or constraint attached to its parent's: PostgreSQL never drops it alone."""
    return bool(obj.parent_key if isinstance(obj, Index) else isinstance(obj, Constraint) and obj.parent)


def _fold_implied(statements: list[Statement],
                  implied: list[tuple[tuple[Key, ...], bool, Statement]]) -> list[Statement]:
    """An object dropped with its owner has no statement; the owner's DROP takes over its edges.

    Except when the object can be dropped alone and needs something else that is dropped in this
    plan (a foreign key to another dropped table): folded, two tables referencing each other could
    never be dropped, so such an object keeps its own DROP and goes first.
    """
    statement_dropping: dict[Key, int] = {}
    for i, st in enumerate(statements):
        for k in st.drops:
            statement_dropping.setdefault(k, i)
    # Owners may themselves be implied (a sub-partition's index goes with its partition's, which
    # goes with the table's): resolve until nothing more is found, whatever the list's order.
    owner_of: list[int | None] = [None] * len(implied)
    found = True
    while found:
        found = False
        for i, (owners, _, child) in enumerate(implied):
            owner = None if owner_of[i] is not None else next(
                (statement_dropping[o] for o in owners if o in statement_dropping), None)
            if owner is not None:
                owner_of[i], found = owner, True
                for k in child.drops:
                    statement_dropping.setdefault(k, owner)
    for (_, alone, child), owner in zip(implied, owner_of):
        elsewhere = alone and any(statement_dropping.get(k, owner) != owner for k in child.releases
                                  if k[0] not in ("schema", "extension"))  # containers go last anyway
        if elsewhere or owner is None:
            statements.append(child)
            continue
        st = statements[owner]
        statements[owner] = replace(st, drops=st.drops | child.drops,
                                    releases=(st.releases | child.releases) - st.drops - child.drops)
    return statements
