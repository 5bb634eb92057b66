"""The MySQL/MariaDB dialect: what the shared differ asks of it, and the diff entry points."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ...differ import Change, diff
from ...model import DbObject, Key, Schema, Table
from ...plan import Plan, order
from .inspect import inspect_connection
from .objects import SCHEMA
from .render import Renderer
from .servers import parse_url


class MysqlDialect:
    name = "mysql"

    def inspect(self, conn: Any) -> Schema:
        return inspect_connection(conn)

    def can_alter(self, old: DbObject, new: DbObject) -> bool:
        """Tables are altered in place; keys, views, triggers, routines and events are replaced."""
        return isinstance(old, Table)

    def owners(self, obj: DbObject) -> tuple[Key, ...]:
        table = getattr(obj, "table", None)
        return (("table", SCHEMA, table),) if table is not None else ()

    def rebuilt_by_column_type_change(self, key: Key) -> bool:
        """A foreign key refuses a change of its columns' types: it is dropped and added again.
        Views and triggers read columns by name at run time and stay."""
        return key[0] == "constraint"

    def retypes_columns(self, old: DbObject, new: DbObject) -> bool:
        return False

    def without_owner(self, obj: DbObject) -> DbObject:
        return obj

    def rename_identity(self, obj: DbObject) -> Hashable | None:
        return None

    def render(self, changes: list[Change], source: Schema, target: Schema) -> Plan:
        return order(Renderer(changes, source, target).statements())


def diff_schemas(source: Schema, target: Schema) -> Plan:
    """The plan that turns `source` into `target`, through the shared differ."""
    dialect = MysqlDialect()
    return dialect.render(diff(source, target, dialect), source, target)


def inspect_url(url: str) -> Schema:
    """The schema of the database a `mysql://user:pw@host:port/db` URL names (only read)."""
    target = parse_url(url)
    with target.connect() as conn:
        return inspect_connection(conn)


def diff_mysql(a_url: str, b_url: str) -> Plan:
    """The plan that turns the database `a_url` names into `b_url`'s."""
    return diff_schemas(inspect_url(a_url), inspect_url(b_url))
