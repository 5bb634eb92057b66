"""Loading `.sql` files into a scratch PostgreSQL database, as psql would run them.

Each file goes first as one simple-protocol query (one round trip, the fastest load); a file that
needs its own transactions (`CREATE INDEX CONCURRENTLY`, an enum value used where it was added) or
whose error the server cannot place is loaded again statement by statement. psql meta-commands
that only guard a dump's replay are blanked; any other is refused with its line. Errors name the
file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import LiteralString, cast

import psycopg

from ...errors import LoadError
from ...sqlfiles import SqlFile
from .connection import first_line
from .servers import Server

# Errors for which loading a file as one implicit transaction is the problem, not the SQL:
# 25001 "cannot run inside a transaction block" (CREATE INDEX CONCURRENTLY, CREATE DATABASE, ...)
# and 55P04 "unsafe use of new value" (an enum value added and used in the same transaction).
NEEDS_OWN_TRANSACTIONS = frozenset({"25001", "55P04"})

# psql meta-commands that only guard how psql replays a dump (pg_dump >= 17.6 writes them) and are
# safe to ignore. Any other meta-command changes what the file means, so it is refused.
IGNORED_META_COMMANDS = frozenset({"restrict", "unrestrict"})

_META_LINE = re.compile(r"^\\(\w*)[^\n]*", re.MULTILINE)
_MISSING_EXTENSION = re.compile(r'extension "([^"]+)" is not available|extension control file "[^"]*/([^/"]+)\.control"')


@contextmanager
def loaded(server: Server, files: list[SqlFile]) -> Iterator[str]:
    """A scratch database on `server` loaded with `files`, dropped on exit."""
    name = load_into_scratch(server, [replace(f, text=_blank_meta_commands(f.path, f.text)) for f in files])
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def _blank_meta_commands(path: str, text: str) -> str:
    """Replace harmless psql meta-command lines by spaces; refuse the others with their line.

    A line starting with a backslash is a meta-command unless it sits inside a string literal or a
    dollar-quoted body; PostgreSQL's own scanner (through pglast) tells which.
    """
    candidates = list(_META_LINE.finditer(text))
    if not candidates:
        return text
    blanked = _blank(text, candidates)
    quoted = _string_spans(blanked)
    commands = [m for m in candidates if not any(start <= m.start() <= end for start, end in quoted)]
    for m in commands:
        if m.group(1) not in IGNORED_META_COMMANDS:
            line = text.count("\n", 0, m.start()) + 1
            raise LoadError(path, line, f"psql meta-command \\{m.group(1)} is not supported: remove it, schemashift loads plain SQL")
    return _blank(text, commands)


def _blank(text: str, matches: list[re.Match[str]]) -> str:
    chars = list(text)
    for m in matches:
        chars[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(chars)


def _string_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (inclusive) of string constants, dollar-quoted bodies included."""
    import pglast.parser  # pglast loads only for files that need it: most never do

    try:
        tokens = pglast.parser.scan(text)
    except pglast.parser.ParseError:
        return []
    return [(t.start, t.end) for t in tokens if t.name == "SCONST"]


class _RetryStatementByStatement(Exception):
    """Loading `files[index]` in one go failed in a way that loading it statement by statement avoids or locates."""

    def __init__(self, index: int) -> None:
        self.index = index


def load_into_scratch(server: Server, files: list[SqlFile]) -> str:
    """Load `files` in order into a new scratch database and return its name; on error drop it and raise.

    Each file goes first as one simple-protocol query (one round trip, the fastest load). When that fails
    because of the single implicit transaction, or without saying where, the load restarts in a fresh
    database with that file sent statement by statement. Each file is retried at most once.
    """
    one_by_one: set[int] = set()
    while True:
        name = server.create_database()
        try:
            for index, file in enumerate(files):
                _load_file(server.url(name), index, file, server, one_by_one=index in one_by_one)
            return name
        except _RetryStatementByStatement as retry:
            server.drop_database(name)
            one_by_one.add(retry.index)
        except BaseException:
            server.drop_database(name)
            raise


def _load_file(url: str, index: int, file: SqlFile, server: Server, *, one_by_one: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if one_by_one:
            _load_statements(conn, file, server)
        else:
            try:
                _execute(conn, file.text)
            except psycopg.Error as exc:
                if exc.sqlstate in NEEDS_OWN_TRANSACTIONS or exc.diag.statement_position is None:
                    raise _RetryStatementByStatement(index) from None
                raise _load_error(file, 0, exc, server) from None
        # Closing the connection would silently roll back what follows a BEGIN that is never committed.
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise LoadError(file.path, None, "the file leaves a transaction open (BEGIN without COMMIT)")


def _load_statements(conn: psycopg.Connection, file: SqlFile, server: Server) -> None:
    for piece in _split(file.text):
        try:
            _execute(conn, file.text[piece])
        except psycopg.Error as exc:
            raise _load_error(file, piece.start, exc, server) from None


def _execute(conn: psycopg.Connection, text: str) -> None:
    """Run user SQL as a simple-protocol query (psycopg sends a query without parameters that way),
    so a string holding many statements runs in one round trip."""
    conn.execute(cast(LiteralString, text))


def _split(text: str) -> list[slice]:
    """Statement slices of `text`, found by PostgreSQL's grammar; the scanner if the grammar refuses it."""
    import pglast.parser

    try:
        return list(pglast.split(text, only_slices=True))
    except pglast.parser.ParseError:
        return list(pglast.split(text, with_parser=False, only_slices=True))


def _load_error(file: SqlFile, offset: int, exc: psycopg.Error, server: Server) -> LoadError:
    """`file:line: message`, the line found from the server's error position within the statement sent."""
    position = exc.diag.statement_position
    line = file.line_at(offset + int(position) - 1 if position else offset)
    message = exc.diag.message_primary or first_line(str(exc))
    missing = _MISSING_EXTENSION.search(f"{message} {exc.diag.message_detail or ''}")
    if missing:
        extension = missing.group(1) or missing.group(2)
        message = (
            f'extension "{extension}" is not available on the PostgreSQL {server.major_version} server used to load it; '
            "use a server that has it with --pg-bin DIR (or SCHEMASHIFT_PG_BIN) or --dev-url URL"
        )
    elif "ICU is not supported" in message:
        message += "; use a server built with ICU with --pg-bin DIR (or SCHEMASHIFT_PG_BIN) or --dev-url URL"
    return LoadError(file.path, line, message)
