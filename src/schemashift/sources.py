"""Schema sources: what the user named becomes a live database.

"The database is the parser": rather than parse SQL ourselves, a `.sql` file is loaded into a scratch
database on the shared throwaway server and read back from its catalogs, so PostgreSQL normalises
every expression. Every kind of source therefore ends as a connection URL:

- `postgresql://…` (or Heroku's `postgres://…`): the user's database, only checked to connect;
- `empty`: a fresh scratch database;
- `file.sql`: a scratch database loaded with the file;
- a folder: a scratch database loaded with its `*.sql` files, sorted by name;
- `migrations:DIR`: a scratch database with the migrations folder replayed (see migrations/replay.py);
- `python:pkg.module:metadata`: a scratch database loaded with the DDL of SQLAlchemy models.

Scratch databases are dropped when `open_source` exits. `_opener_for` is the one place that decides
what a source spec means.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import LiteralString, cast

import psycopg
from psycopg.conninfo import conninfo_to_dict

from schemashift.migrations.progress import working  # absolute: this module is moving to dialects/postgres/

from .errors import LoadError, SourceError
from .servers import Server, get_server
from .urls import normalize_url

URL_PREFIXES = ("postgresql://", "postgres://")
MIGRATIONS_PREFIX = "migrations:"
MODELS_PREFIX = "python:"
CONNECT_TIMEOUT_SECONDS = 10

# Errors for which loading a file as one implicit transaction is the problem, not the SQL:
# 25001 "cannot run inside a transaction block" (CREATE INDEX CONCURRENTLY, CREATE DATABASE, ...)
# and 55P04 "unsafe use of new value" (an enum value added and used in the same transaction).
NEEDS_OWN_TRANSACTIONS = frozenset({"25001", "55P04"})

# psql meta-commands that only guard how psql replays a dump (pg_dump >= 17.6 writes them) and are
# safe to ignore. Any other meta-command changes what the file means, so it is refused.
IGNORED_META_COMMANDS = frozenset({"restrict", "unrestrict"})

_META_LINE = re.compile(r"^\\(\w*)[^\n]*", re.MULTILINE)
_MISSING_EXTENSION = re.compile(r'extension "([^"]+)" is not available|extension control file "[^"]*/([^/"]+)\.control"')

Opener = Callable[..., AbstractContextManager[str]]


@contextmanager
def open_source(spec: str, *, dev_url: str | None = None, pg_bin: str | None = None) -> Iterator[str]:
    """Yield a connection URL to a database holding the schema `spec` names; scratch ones are dropped after."""
    opener = _opener_for(spec)
    with opener(spec, dev_url=dev_url, pg_bin=pg_bin) as url:
        yield url


def _opener_for(spec: str) -> Opener:
    """The one dispatch point from a source spec to the function that opens it."""
    if spec.startswith(URL_PREFIXES):
        return _open_url
    if spec == "empty":
        return _open_empty
    if spec.startswith(MIGRATIONS_PREFIX):
        return _open_migrations
    if spec.startswith(MODELS_PREFIX):
        return _open_models
    if "://" in spec:
        raise SourceError(f"{spec}: unsupported URL scheme (expected postgresql://)")
    return _open_path


@contextmanager
def _open_url(spec: str, **_: object) -> Iterator[str]:
    url = normalize_url(spec)
    check_connects(url)
    yield url


@contextmanager
def _open_empty(spec: str, *, dev_url: str | None, pg_bin: str | None) -> Iterator[str]:
    with get_server(dev_url, pg_bin).scratch_database() as url:
        yield url


def _open_path(spec: str, *, dev_url: str | None, pg_bin: str | None) -> AbstractContextManager[str]:
    return _loaded([read_sql_file(path) for path in sql_paths(spec)], dev_url, pg_bin)


@contextmanager
def _open_migrations(spec: str, *, dev_url: str | None, pg_bin: str | None) -> Iterator[str]:
    from .migrations.replay import replayed

    with replayed(Path(spec[len(MIGRATIONS_PREFIX):] or "migrations"), dev_url=dev_url, pg_bin=pg_bin) as url:
        yield url


def _open_models(spec: str, *, dev_url: str | None, pg_bin: str | None) -> AbstractContextManager[str]:
    from .models_source import models_sql

    return _loaded([SqlFile(spec, models_sql(spec))], dev_url, pg_bin)


@contextmanager
def _loaded(files: list[SqlFile], dev_url: str | None, pg_bin: str | None) -> Iterator[str]:
    """A scratch database loaded with `files`, dropped on exit."""
    server = get_server(dev_url, pg_bin)
    name = load_into_scratch(server, files)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def connect(url: str, **options: object) -> psycopg.Connection:
    """A connection to `url`, or a one-line `SourceError` saying why not (password hidden)."""
    url = normalize_url(url)
    try:
        given = conninfo_to_dict(url)
        timeout = given.get("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        return psycopg.connect(url, connect_timeout=timeout, **options)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise SourceError(f"cannot connect to {url}: {_first_line(str(exc))}") from None


def check_connects(url: str) -> None:
    """Fail with a one-line `SourceError` unless `url` accepts a connection."""
    connect(url).close()


def sql_paths(spec: str) -> list[Path]:
    """The `.sql` files a path names: the file itself, or a folder's `*.sql` sorted by name."""
    path = Path(spec)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.suffix.lower() == ".sql" and p.is_file()), key=lambda p: p.name)
        if not files:
            raise SourceError(f"{spec}: folder holds no .sql files")
        return files
    if not path.exists():
        raise SourceError(f"{spec}: no such file or folder (expected a postgresql:// URL, a .sql file, a folder, 'empty', migrations:DIR or python:module:attr)")
    if path.suffix.lower() != ".sql":
        raise SourceError(f"{spec}: not a .sql file (expected a postgresql:// URL, a .sql file, a folder, 'empty', migrations:DIR or python:module:attr)")
    return [path]


@dataclass(frozen=True)
class SqlFile:
    """A file's SQL, with psql meta-command lines blanked so offsets and line numbers are unchanged."""

    path: str
    text: str

    def line_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def read_sql_file(path: Path) -> SqlFile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    return SqlFile(str(path), _blank_meta_commands(str(path), text))


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
                with working(f"loading {file.path}"):  # a big file shows its running time on a terminal
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
    message = exc.diag.message_primary or _first_line(str(exc))
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


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "unknown error"
