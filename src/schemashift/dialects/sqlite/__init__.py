"""SQLite: database files (`sqlite:///path.db`, or a path ending in .db, .sqlite, .sqlite3, .db3)
and sqlite3 connections; scratch databases live in memory.

Not covered: virtual tables (refused with a SourceError), the names of PRIMARY KEY / UNIQUE /
FOREIGN KEY constraints (no pragma reports them; CHECK names are kept), a column's NOT NULL
ON CONFLICT clause, the `INTEGER PRIMARY KEY DESC` quirk (not a rowid alias; a rebuild makes it
one), column renames (a drop and an add), temp objects and attached databases. Views and
triggers are dropped and recreated around every rebuild or column drop, not only those that read
the table (SQLite checks them all when a table is renamed).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .databases import FILE_SUFFIXES, URL

NAME = "sqlite"
ALIASES = ("sqlite3",)


def claims(spec: str) -> bool:
    return bool(URL.match(spec)) or ("://" not in spec and spec.lower().endswith(FILE_SUFFIXES))


def owns_connection(obj: object) -> bool:
    return isinstance(obj, sqlite3.Connection)


def driver_errors() -> tuple[type[Exception], ...]:
    return (sqlite3.Error,)


def make_dialect() -> Any:
    from .dialect import SqliteDialect

    return SqliteDialect()

