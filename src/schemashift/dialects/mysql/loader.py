"""Load a `.sql` file, a folder of them or a text into a MySQL database, statement by statement
(MySQL has no multi-statement DDL transaction anyway), so an error names the file and the line.
Foreign keys are not checked while loading, as in a dump: a schema declares its tables in any
order."""

from __future__ import annotations

import re
from pathlib import Path

import pymysql

from ...errors import LoadError, SourceError
from .servers import Target, run, server_message
from .sqltext import split

_AT_LINE = re.compile(r"at line (\d+)\s*$")
_QUOTED = re.compile(r"'([^']+)'")
# Statements that act on other databases than the one being loaded.
_LEAVES_DATABASE = re.compile(r"(USE\b|(CREATE|DROP|ALTER)\s+(DATABASE|SCHEMA)\b)", re.I)


def load_text(target: Target, database: str, sql: str, path: str = "<sql>") -> None:
    """Run each statement of `sql` in `database`; the first error stops it, as a LoadError."""
    with target.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0")  # a schema's tables in any order, cycles too
        for piece in split(sql):
            if _LEAVES_DATABASE.match(piece.sql):
                raise LoadError(path, piece.line, f"{' '.join(piece.sql.split()[:3])}: refused, a schema file is"
                                " loaded into one scratch database and may not name or leave it")
            try:
                run(cur, piece.sql)
            except pymysql.err.MySQLError as exc:
                message = server_message(exc)
                raise LoadError(path, piece.line + _line_in(piece.sql, message), message) from None


def _line_in(sql: str, message: str) -> int:
    """Lines into the statement where the error is: the server's "at line N", else the line of
    the first quoted word of the message ("Unknown data type: 'REFRENCES'"), else its first."""
    found = _AT_LINE.search(message)
    if found:
        return int(found.group(1)) - 1
    quoted = _QUOTED.search(message)
    at = sql.find(quoted.group(1)) if quoted else -1
    return sql[:at].count("\n") if at >= 0 else 0


def sql_files(path: Path) -> list[Path]:
    """A file, or a folder's `*.sql` files in name order."""
    if path.is_dir():
        return sorted(path.glob("*.sql"))
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    return [path]


def load_path(target: Target, database: str, path: str | Path) -> None:
    """Load a `.sql` file or a folder's files, in name order, into `database`."""
    for file in sql_files(Path(path)):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{file}: cannot read it ({exc})") from None
        load_text(target, database, text, str(file))
