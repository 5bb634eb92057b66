"""The SQLite dialect: inspect a database file or connection, diff two of them into a Plan."""

from .dialect import SqliteDialect, diff_schemas, diff_sqlite
from .inspect import inspect_connection, inspect_file

__all__ = ["SqliteDialect", "diff_schemas", "diff_sqlite", "inspect_connection", "inspect_file"]
