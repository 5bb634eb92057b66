"""The PostgreSQL dialect: what can be altered in place, what owns what, and rendering a diff."""

from __future__ import annotations

from dataclasses import replace

import psycopg

from ...diff import Alter, Change, Create, Drop
from ...model import (
    Collation,
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
    Trigger,
    View,
)
from ...plan import Plan, Statement, order
from . import render_code, render_tables, render_types  # noqa: F401  (they register renderers)
from .inspect import InspectOptions, inspect_connection
from .render_core import ALTER, CREATE, DROP, Context, lookup
from .render_types import enum_is_extended


def _bare(obj: DbObject) -> DbObject:
    """The object without what COMMENT / GRANT can change."""
    return replace(obj, comment=None, acl=frozenset())


def _without_not_valid(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


class PostgresDialect:
    name = "postgresql"

    def inspect(self, conn: psycopg.Connection, options: InspectOptions | None = None) -> Schema:
        return inspect_connection(conn, options)

    def can_alter(self, old: DbObject, new: DbObject) -> bool:
        """False when PostgreSQL has no ALTER for the difference: drop and create instead."""
        if isinstance(old, Table) and isinstance(new, Table):
            return (old.partitioned, old.partition_key) == (new.partitioned, new.partition_key)
        if isinstance(old, Constraint) and isinstance(new, Constraint):
            same = old.definition == new.definition
            validated = old.definition.endswith(" NOT VALID") and _without_not_valid(old.definition) == new.definition
            return old.type == new.type and (same or validated)
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
            return (old.permissive, old.command) == (new.permissive, new.command)
        if isinstance(old, EventTrigger):
            return replace(_bare(old), enabled="O") == replace(_bare(new), enabled="O")  # type: ignore[type-var]
        if isinstance(old, Extension) and isinstance(new, Extension):
            return old.version == new.version or new.version is None or new.version in old.updatable_to
        if isinstance(old, Statistics) and isinstance(new, Statistics):
            return old.definition == new.definition
        if isinstance(old, Index | Collation | RangeType | Publication):
            return _bare(old) == _bare(new)
        return True

    def owner(self, obj: DbObject) -> Key | None:
        """The table (or column) whose DROP takes `obj` with it."""
        if isinstance(obj, Constraint | Trigger | Policy | Rule):
            return ("table", obj.schema, obj.table)
        if isinstance(obj, Index):
            return ("view" if obj.on_view else "table", obj.schema, obj.table)
        if isinstance(obj, Sequence) and obj.owned_by:
            return ("column", *obj.owned_by)
        return None

    def without_owner(self, obj: DbObject) -> DbObject:
        """The object freed from the table or column it goes with (a sequence's OWNED BY NONE)."""
        return replace(obj, owned_by=None) if isinstance(obj, Sequence) else obj

    def rebuilt_by_column_type_change(self, key: Key) -> bool:
        """PostgreSQL refuses ALTER COLUMN TYPE under these: drop and recreate them around it."""
        return key[0] in ("view", "rule", "policy", "trigger")

    def retypes_columns(self, old: DbObject, new: DbObject) -> bool:
        """An enum losing or reordering labels is rebuilt, which retypes every column of it."""
        return isinstance(old, EnumType) and isinstance(new, EnumType) and not enum_is_extended(old, new)

    def render(self, changes: list[Change], source: Schema, target: Schema) -> Plan:
        ctx = Context(source, target)
        statements: list[Statement] = []
        implied: list[tuple[Key, Statement]] = []
        for change in changes:
            if isinstance(change, Create):
                statements += lookup(CREATE, change.new, "create")(change.new, ctx)
            elif isinstance(change, Drop) and change.implied:
                owner = self.owner(change.old)
                implied += [(owner, s) for s in lookup(DROP, change.old, "drop")(change.old, ctx)]  # type: ignore[misc]
            elif isinstance(change, Drop):
                statements += lookup(DROP, change.old, "drop")(change.old, ctx)
            elif isinstance(change, Alter):
                statements += lookup(ALTER, change.new, "alter")(change.old, change.new, ctx)
        return order(_fold_implied(statements, implied))


def _fold_implied(statements: list[Statement], implied: list[tuple[Key, Statement]]) -> list[Statement]:
    """An object dropped with its owner has no statement; the owner's DROP takes over its edges.

    Except when the object needs something else that is dropped in this plan (a foreign key to
    another dropped table): folded, two tables referencing each other could never be dropped, so
    such an object keeps its own DROP and goes first.
    """
    dropped_by: dict[Key, Key] = {}
    for owner, child in implied:
        for k in child.drops:
            dropped_by[k] = owner
    for st in statements:
        for k in st.drops:
            dropped_by.setdefault(k, st.object_key)
    for owner, child in implied:
        owner_statement = dropped_by.get(owner, owner)
        elsewhere = any(dropped_by.get(k) not in (None, owner_statement) for k in child.releases
                        if k[0] not in ("schema", "extension"))  # containers go last anyway
        owner_drop = next((i for i, st in enumerate(statements) if owner in st.drops), None)
        if elsewhere or owner_drop is None:
            statements.append(child)
            continue
        st = statements[owner_drop]
        statements[owner_drop] = replace(st, drops=st.drops | child.drops,
                                         releases=(st.releases | child.releases) - st.drops - child.drops)
    return statements
