"""MySQL and MariaDB: `mysql://` and `mariadb://` URLs (SQLAlchemy's `mysql+pymysql://` too) and
PyMySQL connections; scratch databases on a throwaway `mariadbd` or the `--dev-url` server. The
driver loads only when `make_dialect()` is called. What it does not cover: see the README."""

from __future__ import annotations

import re
from typing import Any

NAME = "mysql"
ALIASES = ("mariadb",)
_URL = re.compile(r"^(mysql|mariadb)(\+\w+)?://")


def claims(spec: str) -> bool:
    return bool(_URL.match(spec))


def owns_connection(obj: object) -> bool:
    return type(obj).__module__.split(".")[0] == "pymysql"


def driver_errors() -> tuple[type[Exception], ...]:
    import pymysql

    return (pymysql.err.MySQLError,)


def make_dialect() -> Any:
    from .dialect import MysqlDialect

    return MysqlDialect()
