"""schemashift: change database schemas safely — declarative diffs and versioned migrations.

The API is imported on first use, so that `schemashift --help` does not pay for psycopg and pglast.
"""

from __future__ import annotations

import importlib

_LAZY = {"SchemashiftError": "errors", "Migration": "api", "apply": "api", "diff": "api", "diff_schemas": "api",
         "inspect": "api", "temporary_database": "dialects.postgres.servers"}

__all__ = ["Migration", "SchemashiftError", "apply", "diff", "diff_schemas", "inspect", "temporary_database"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
