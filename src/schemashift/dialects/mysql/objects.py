"""What MySQL adds to the shared model: column attributes PostgreSQL has no word for, indexes
named per table, routines (procedures and functions in two namespaces) and events."""

from __future__ import annotations

from typing import ClassVar

from ...frozen import frozen
from ...model import Column, DbObject, Index, Key, SchemaObject

# The inspected database's name in every key: two databases compare object by object whatever
# they are called (a scratch database has a random name).
SCHEMA = "db"


@frozen
class MysqlColumn(Column):
    """A column with MySQL's own attributes; `check` is a column-level CHECK, which the server
    keeps with the column (only MODIFY COLUMN changes it)."""

    charset: str | None = None
    auto_increment: bool = False
    on_update: str | None = None
    invisible: bool = False
    check: str | None = None


@frozen
class MysqlIndex(Index):
    """An index (UNIQUE, FULLTEXT, SPATIAL or plain key): its name is unique per table only."""

    @property
    def key(self) -> Key:
        return ("index", self.schema, self.table, self.name)


@frozen
class Routine(SchemaObject):
    """A stored procedure or function, compared by its CREATE text after the name."""

    kind: ClassVar[str] = "routine"
    routine_type: str  # PROCEDURE | FUNCTION
    definition: str

    @property
    def key(self) -> Key:
        return ("routine", self.schema, f"{self.routine_type} {self.name}")


@frozen
class Event(SchemaObject):
    """A scheduled event, compared by its CREATE text after the name."""

    kind: ClassVar[str] = "event"
    definition: str


def table_of(obj: DbObject) -> str | None:
    """The table an index, constraint or trigger lives on."""
    return getattr(obj, "table", None)
