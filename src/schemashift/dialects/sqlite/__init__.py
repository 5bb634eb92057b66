"""The SQLite dialect: inspect a database file or connection, diff two of them into a Plan.

Wiring it into the CLI is one call: `diff_sqlite(a_path, b_path)` returns the shared `Plan`.

Not covered: virtual tables (refused with a SourceError), the names of PRIMARY KEY / UNIQUE /
FOREIGN KEY constraints (no pragma reports them; CHECK names are kept), a column's NOT NULL
ON CONFLICT clause, the `INTEGER PRIMARY KEY DESC` quirk (not a rowid alias; a rebuild makes it
one), column renames (a drop and an add), temp objects and attached databases. Views and
triggers are dropped and recreated around every rebuild or column drop, not only those that read
the table (SQLite checks them all when a table is renamed).
"""

from .dialect import SqliteDialect, diff_schemas, diff_sqlite
from .inspect import inspect_connection, inspect_file

__all__ = ["SqliteDialect", "diff_schemas", "diff_sqlite", "inspect_connection", "inspect_file"]
