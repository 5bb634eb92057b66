"""PostgreSQL, in depth: `postgresql://` and `postgres://` URLs (SQLAlchemy's `postgresql+driver://`
too) and psycopg connections. The driver loads only when `make_dialect()` is called."""

from __future__ import annotations

import re
from typing import Any

NAME = "postgresql"
ALIASES = ("postgres", "pg")
_URL = re.compile(r"^postgres(ql)?(\+\w+)?://")


def claims(spec: str) -> bool:
    return bool(_URL.match(spec))


def owns_connection(obj: object) -> bool:
    return type(obj).__module__.split(".")[0] == "psycopg"


def driver_errors() -> tuple[type[Exception], ...]:
    import psycopg

    return (psycopg.Error,)


def make_dialect() -> Any:
    from .dialect import PostgresDialect

    return PostgresDialect()
