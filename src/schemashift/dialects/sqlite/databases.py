"""SQLite databases as sources: files named by path or `sqlite:///` URL, and scratch databases in
memory (nothing to start: SQLite is the parser here too).

A scratch database is a shared-cache in-memory database with a name of its own, kept alive by one
connection held open until the source is closed, so every later connection to its URL sees it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from urllib.parse import quote as quote_uri

from ...errors import LoadError, SchemashiftError, SourceError
from ...sqlfiles import SqlFile

URL = re.compile(r"^sqlite(\+\w+)?://")
FILE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")
_MEMORY = "file:schemashift-{}?mode=memory&cache=shared"
# A line the sqlite3 shell reads as one of its own commands (`.read`, `.mode`), outside any statement.
_DOT_COMMAND = re.compile(r"^\.(\w+)")


def path_of(url: str) -> str:
    """The file (or in-memory URI) a source names: SQLAlchemy's `sqlite:///rel.db`, `sqlite:////abs.db`,
    or a plain path."""
    match = URL.match(url)
    if not match:
        return url
    rest = url[match.end():]
    if not rest:
        raise SourceError(f"{url}: an in-memory SQLite database holds no schema to compare (name a file)")
    return rest[1:] if rest.startswith("/") else rest


def connect(url: str) -> sqlite3.Connection:
    """An autocommit connection to an existing database (never creates a file), or one line why not."""
    path = path_of(url)
    if path.startswith("file:"):
        target, uri = path, True
    else:
        if not os.path.isfile(path):
            raise SourceError(f"{url}: no such SQLite database file")
        mode = "rw" if os.access(path, os.W_OK) else "ro"
        target, uri = f"file:{quote_uri(os.path.abspath(path))}?mode={mode}", True
    try:
        conn = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False)
        conn.execute("SELECT 1 FROM sqlite_schema LIMIT 1")
    except sqlite3.Error as exc:
        raise SourceError(f"{url}: cannot read it as a SQLite database ({exc})") from None
    return conn


def file_of(url: str) -> str | None:
    """The database file behind `url`; None for an in-memory database."""
    path = path_of(url)
    return None if path.startswith("file:") else os.path.abspath(path)


@contextlib.contextmanager
def empty() -> Iterator[str]:
    """The URL of a fresh in-memory database, gone when the block ends."""
    url = "sqlite:///" + _MEMORY.format(uuid.uuid4().hex)
    holder = sqlite3.connect(path_of(url), uri=True, isolation_level=None, check_same_thread=False)
    try:
        yield url
    finally:
        holder.close()


@contextlib.contextmanager
def loaded(files: list[SqlFile]) -> Iterator[str]:
    """An in-memory database loaded with `files`, statement by statement so an error names its line."""
    with empty() as url:
        conn = connect(url)
        try:
            for file in files:
                _load(conn, file)
        finally:
            conn.close()
        yield url


def _load(conn: sqlite3.Connection, file: SqlFile) -> None:
    for line, statement in statements(file):
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise LoadError(file.path, line, str(exc)) from None
    if conn.in_transaction:
        conn.execute("ROLLBACK")
        raise LoadError(file.path, None, "the file leaves a transaction open (BEGIN without COMMIT)")


def statements(file: SqlFile) -> Iterator[tuple[int, str]]:
    """(first line, text) of each statement, cut where SQLite's own `complete_statement` says one ends."""
    pending: list[str] = []
    start = 1
    for number, line in enumerate(file.text.splitlines(keepends=True), 1):
        if not pending:
            dot = _DOT_COMMAND.match(line)
            if dot:
                raise LoadError(file.path, number, f"sqlite3 shell command .{dot.group(1)} is not supported: "
                                "remove it, schemashift loads plain SQL")
            if not line.strip():
                continue
            start = number
        pending.append(line)
        text = "".join(pending)
        if sqlite3.complete_statement(text):
            if text.strip().strip(";").strip() and not _only_comments(text):
                yield start, text
            pending = []
    text = "".join(pending)
    if text.strip() and not _only_comments(text):
        raise LoadError(file.path, start, "incomplete statement at the end of the file (a missing ';'?)")


def _only_comments(text: str) -> bool:
    body = re.sub(r"--[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    return not body.strip().strip(";").strip()


def apply(sql: str, conn: sqlite3.Connection) -> None:
    """Run a plan's script as the sqlite3 shell would; on an error roll back and leave foreign keys on."""
    try:
        conn.executescript(sql)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.execute("PRAGMA foreign_keys=ON")
        raise SchemashiftError(f"applying the plan failed: {exc}") from None
