"""The SQLite dialect: ALTER TABLE where SQLite has it, otherwise the 12-step table rebuild from
https://www.sqlite.org/lang_altertable.html ("Making Other Kinds Of Table Schema Changes").

SQLite keeps a table's keys and CHECKs inside its CREATE TABLE, so any change to them, to a
column, or to the table's options rebuilds the table: a new table under a temporary name, the kept
columns copied, the old one dropped, the new one renamed, its indexes recreated. Views and
triggers are dropped before and recreated after any rebuild or column drop (SQLite checks them
when a table is renamed), all inside one transaction between `PRAGMA foreign_keys=OFF` and
`PRAGMA foreign_key_check`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager

from ...differ import Alter, Change, Create, Drop, Rename, diff
from ...model import Column, Constraint, DbObject, Index, Key, Schema, Table, Trigger, View
from ...plan import Plan, Statement, order
from ...sqlfiles import SqlFile
from ..base import InspectOptions, ScratchServer
from ..one_namespace import OneNamespace
from . import databases
from .inspect import SCHEMA, inspect_connection, inspect_file
from .run_backend import SqliteRunBackend
from .sqltext import quote, tokens, unquote

# A literal, as the tokenizer prints it (a sign is a token of its own: "- 1").
_CONSTANT = re.compile(r"^(NULL|TRUE|FALSE|([-+] )?([\d.]+(E[-+]?\d+)?|0X[0-9A-F]+)|'(?:[^']|'')*'|X'[0-9A-F]*')$", re.I)
TEMP_PREFIX = "_schemashift_new_"


class SqliteDialect(OneNamespace):
    namespace = SCHEMA
    name = "sqlite"
    sqlalchemy_url = "sqlite://"

    def connect(self, url: str) -> sqlite3.Connection:
        return databases.connect(url)

    def empty(self, server: ScratchServer) -> AbstractContextManager[str]:
        return databases.empty()

    def loaded(self, files: list[SqlFile], server: ScratchServer) -> AbstractContextManager[str]:
        return databases.loaded(files)

    def scratch_identity(self, server: ScratchServer) -> str | None:
        return None  # loading into memory is faster than reading a kept schema back

    def for_comparison(self, sources: Iterable[object], server: ScratchServer) -> ScratchServer:
        return server  # one SQLite library reads every file alike

    def inspect(self, conn: sqlite3.Connection, options: InspectOptions | None = None) -> Schema:
        return inspect_connection(conn)

    def apply(self, plan: Plan, conn: sqlite3.Connection, *, lock_retries: int = 0) -> None:  # no lock_timeout
        databases.apply(plan.sql, conn)

    def run_backend(self) -> SqliteRunBackend:
        return SqliteRunBackend()

    def rebuilt_by_column_type_change(self, key: Key) -> bool:
        return False  # views and triggers are recreated around every rebuild anyway

    def render(self, changes: list[Change], source: Schema, target: Schema) -> Plan:
        return order(_Render(changes, source, target).statements())


def _st(sql: str, key: Key, kind: str, destructive: bool = False, why: str = "") -> Statement:
    return Statement(sql=sql, kind=kind, object_key=key, destructive=destructive, why=why)


class _Render:
    """One diff's statements, in the order SQLite needs them (the plan keeps it: no edges)."""

    def __init__(self, changes: list[Change], source: Schema, target: Schema) -> None:
        self.source, self.target = source, target
        self.changes = [c for c in changes if not isinstance(c, Rename)]
        self.dropped_tables = {c.old.name for c in changes if isinstance(c, Drop) and isinstance(c.old, Table)}
        self.created_tables = {c.new.name for c in changes if isinstance(c, Create) and isinstance(c.new, Table)}
        touched = {c.new.name for c in changes if isinstance(c, Alter) and isinstance(c.new, Table)}
        touched |= {_obj(c).table for c in changes if isinstance(_obj(c), Constraint)}  # type: ignore[attr-defined]
        touched -= self.dropped_tables | self.created_tables
        self.rebuilt = {t for t in touched if not self._simple(t)}
        self.alters = touched - self.rebuilt

    def _simple(self, table: str) -> bool:
        """Whether ADD / DROP COLUMN alone turn the source table into the target's."""
        old, new = self.source.objects[("table", "main", table)], self.target.objects[("table", "main", table)]
        if _constraints(self.source, table) != _constraints(self.target, table) or old.options != new.options:
            return False
        kept = [c for c in old.columns if new.column(c.name) is not None]
        if any(new.column(c.name) != c for c in kept):
            return False
        dropped = [c for c in old.columns if new.column(c.name) is None]
        added = [c for c in new.columns if old.column(c.name) is None]
        return all(self._droppable(table, c) for c in dropped) and all(_addable(c) for c in added)

    def _droppable(self, table: str, col: Column) -> bool:
        """SQLite refuses DROP COLUMN for a column any key, index, CHECK, generated column, view or
        trigger names; conservatively, any mention of its name counts."""
        name = col.name.lower()
        texts = [o.definition for o in self.source.objects.values()
                 if isinstance(o, Constraint | Index) and o.table == table or isinstance(o, View | Trigger)]
        texts += [c.generated or "" for c in self.source.objects[("table", "main", table)].columns]
        return not col.generated and not any(unquote(tok).lower() == name for t in texts for tok in tokens(t))

    def statements(self) -> list[Statement]:
        if not any(self._real(c) for c in self.changes):
            return []
        out: list[Statement] = []
        structural = bool(self.rebuilt or self.dropped_tables or any(
            old.column(c.name) is not None and self.target.objects[k].column(c.name) is None
            for k, old in ((("table", "main", t), self.source.objects[("table", "main", t)]) for t in self.alters)
            for c in old.columns))
        fk = structural or any(isinstance(_obj(c), Constraint) and _obj(c).type == "f" for c in self.changes)
        if fk:
            out.append(_st("PRAGMA foreign_keys=OFF", ("database",), "pragma"))
        out.append(_st("BEGIN", ("database",), "begin"))
        out += self._drop_views_and_triggers(structural)
        out += [_st(f"DROP INDEX {quote(o.name)}", o.key, "drop") for o in self._gone(Index)]
        out += [_st(f"DROP TABLE {quote(t)}", ("table", "main", t), "drop", True, "the table's rows")
                for t in sorted(self.dropped_tables)]
        for t in sorted(self.created_tables):
            out.append(_st(create_table(self.target, t, t), ("table", "main", t), "create"))
        for t in sorted(self.alters):
            out += self._alter(t)
        for t in sorted(self.rebuilt):
            out += self._rebuild(t)
        out += [_st(render_index(o), o.key, "create") for o in self._new(Index)]
        out += [_st(f"CREATE VIEW {quote(o.name)} {o.definition}", o.key, "create") for o in self._new(View, structural)]
        out += [_st(f"CREATE TRIGGER {quote(o.name)} {o.definition}", o.key, "create")
                for o in self._new(Trigger, structural)]
        if fk:
            out += _foreign_key_check()
        out.append(_st("COMMIT", ("database",), "commit"))
        if fk:
            out.append(_st("PRAGMA foreign_keys=ON", ("database",), "pragma"))
        return out

    def _real(self, change: Change) -> bool:
        """A table whose columns only moved is no change: ADD COLUMN can only append, so column
        order is not compared."""
        if isinstance(change, Alter) and isinstance(change.old, Table):
            old, new = change.old, change.new
            return sorted(old.columns, key=_name) != sorted(new.columns, key=_name) or old.options != new.options  # type: ignore[attr-defined]
        return True

    def _gone(self, kind: type) -> list[DbObject]:
        """Objects of `kind` to drop: dropped or changed, except those going with their table."""
        away = self.dropped_tables | self.rebuilt
        return [o for k, o in self.source.objects.items() if isinstance(o, kind)
                and self.target.objects.get(k) != o and getattr(o, "table", None) not in away]

    def _new(self, kind: type, everything: bool = False) -> list[DbObject]:
        """Objects of `kind` to create, in the target's creation order: new or changed ones, those
        on rebuilt tables, and every one when views and triggers were all taken down."""
        rebuilt = self.rebuilt | self.created_tables
        return [o for k, o in self.target.objects.items() if isinstance(o, kind) and (
            everything or self.source.objects.get(k) != o or getattr(o, "table", None) in rebuilt)]

    def _drop_views_and_triggers(self, everything: bool) -> list[Statement]:
        out = []
        for kind, word in ((Trigger, "TRIGGER"), (View, "VIEW")):
            for k, o in self.source.objects.items():
                if isinstance(o, kind) and (everything or self.target.objects.get(k) != o) \
                        and getattr(o, "table", None) not in self.dropped_tables | self.rebuilt:
                    out.append(_st(f"DROP {word} {quote(o.name)}", o.key, "drop"))
        return out

    def _alter(self, table: str) -> list[Statement]:
        old, new = self.source.objects[("table", "main", table)], self.target.objects[("table", "main", table)]
        key, q = new.key, quote(table)
        # Added first: SQLite cannot drop a table's last column.
        out = [_st(f"ALTER TABLE {q} ADD COLUMN {column_sql(c)}", key, "alter")
               for c in new.columns if old.column(c.name) is None]
        out += [_st(f"ALTER TABLE {q} DROP COLUMN {quote(c.name)}", key, "alter", True, "the column's values")
                for c in old.columns if new.column(c.name) is None]
        return out

    def _rebuild(self, table: str) -> list[Statement]:
        """Steps 4-7 of SQLite's procedure; the indexes come back with the other new indexes."""
        old, new = self.source.objects[("table", "main", table)], self.target.objects[("table", "main", table)]
        temp = TEMP_PREFIX + table
        kept = [c.name for c in new.columns if old.column(c.name) is not None
                and not c.generated and not old.column(c.name).generated]
        cols = ", ".join(quote(c) for c in kept)
        lost = [c.name for c in old.columns if new.column(c.name) is None and not c.generated]
        if not kept and "WITHOUT ROWID" not in old.options + new.options:
            cols = "rowid"  # no column is kept, but the rows are
        copy = [_st(f"INSERT INTO {quote(temp)} ({cols}) SELECT {cols} FROM {quote(table)}", new.key, "rebuild")]
        if _autoincrement(self.target, table):
            copy += _keep_sequence(temp, table, new.key)
        return [
            _st(create_table(self.target, table, temp), new.key, "rebuild"),
            *(copy if cols else []),
            _st(f"DROP TABLE {quote(table)}", new.key, "rebuild", bool(lost), f"columns {', '.join(lost)}"),
            _st(f"ALTER TABLE {quote(temp)} RENAME TO {quote(table)}", new.key, "rebuild"),
        ]


def _autoincrement(schema: Schema, table: str) -> bool:
    pk = schema.objects.get(("constraint", "main", table, "primary key"))
    return isinstance(pk, Constraint) and "AUTOINCREMENT" in pk.definition


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _keep_sequence(temp: str, table: str, key: Key) -> list[Statement]:
    """An AUTOINCREMENT table's counter outlives the rebuild: the copy only raised the new table's
    to its largest id, and DROP TABLE deletes the old one's, so ids of deleted rows came back."""
    return [_st(sql, key, "rebuild") for sql in (
        f"DELETE FROM sqlite_sequence WHERE name = {_literal(temp)}"
        f" AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {_literal(table)})",
        f"INSERT INTO sqlite_sequence (name, seq) SELECT {_literal(temp)}, seq FROM sqlite_sequence"
        f" WHERE name = {_literal(table)}")]


def _foreign_key_check() -> list[Statement]:
    """Step 10, `PRAGMA foreign_key_check`, made to stop the plan: the pragma only lists violating
    rows, so their count also goes into a temporary table whose CHECK fails unless it is 0, and
    the error leaves the transaction uncommitted."""
    guard = quote("_schemashift_fk_check")
    return [_st(sql, ("database",), "check") for sql in (
        "PRAGMA foreign_key_check",
        f"CREATE TEMP TABLE {guard} (violations INTEGER CHECK (violations = 0))",
        f"INSERT INTO temp.{guard} SELECT count(*) FROM pragma_foreign_key_check",
        f"DROP TABLE temp.{guard}")]


def _obj(change: Change) -> DbObject:
    return change.new if isinstance(change, Create | Alter | Rename) else change.old


def _name(col: Column) -> str:
    return col.name


def _constraints(schema: Schema, table: str) -> list[Constraint]:
    return sorted((c for c in schema.constraints_on("main", table)), key=lambda c: c.name)


def _addable(col: Column) -> bool:
    """ADD COLUMN's documented limits: no stored generated column, a constant default, and a
    default other than NULL for NOT NULL (keys and CHECKs are table changes, hence rebuilds)."""
    if col.generated:
        return col.generated_kind == "v" and not col.not_null
    if col.default is not None and not _CONSTANT.match(col.default.strip("()") if col.default.startswith("(") else col.default):
        return False
    return not col.not_null or (col.default is not None and col.default.upper() != "NULL")


def column_sql(col: Column) -> str:
    """One column definition, from the model."""
    sql = quote(col.name) + (f" {col.type}" if col.type else "")
    if col.collation:
        sql += f" COLLATE {col.collation}"
    if col.not_null:
        sql += " NOT NULL"
    if col.generated:
        sql += f" GENERATED ALWAYS AS ({col.generated}) {'STORED' if col.generated_kind == 's' else 'VIRTUAL'}"
    elif col.default is not None:
        sql += f" DEFAULT {col.default}" if col.default.startswith("(") or _CONSTANT.match(col.default) \
            else f" DEFAULT ({col.default})"
    return sql


def create_table(schema: Schema, table: str, as_name: str) -> str:
    """CREATE TABLE for the model's table `table`, under `as_name`: columns, then its constraints."""
    t = schema.objects[("table", "main", table)]
    parts = [column_sql(c) for c in t.columns] + [c.definition for c in _constraints(schema, table)]
    return f"CREATE TABLE {quote(as_name)} ({', '.join(parts)})" + (f" {', '.join(t.options)}" if t.options else "")


def render_index(index: Index) -> str:
    unique, rest = (True, index.definition[7:]) if index.definition.startswith("UNIQUE ") else (False, index.definition)
    return f"CREATE {'UNIQUE ' if unique else ''}INDEX {quote(index.name)} {rest}"


def diff_schemas(source: Schema, target: Schema) -> Plan:
    """The plan that turns `source` into `target`, through the shared differ."""
    dialect = SqliteDialect()
    return dialect.render(diff(source, target, dialect), source, target)


def diff_sqlite(a_path: str, b_path: str) -> Plan:
    """The plan that turns the database file `a_path` into `b_path`."""
    return diff_schemas(inspect_file(a_path), inspect_file(b_path))
