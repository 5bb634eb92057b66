"""Schema sources: what the user named becomes a live database of the command's dialect.

"The database is the parser": rather than parse SQL ourselves, a `.sql` file is loaded into a scratch
database and read back from its catalogs, so the engine normalises every expression. Every kind of
source therefore ends as a connection URL:

- a database URL or file the dialect claims (`postgresql://…`, `sqlite:///app.db`, `app.db`, …):
  the user's database, only checked to connect;
- `empty`: a fresh scratch database;
- `file.sql`: a scratch database loaded with the file;
- a folder: a scratch database loaded with its `*.sql` files, sorted by name;
- `migrations:DIR`: a scratch database with the migrations folder replayed (see migrations/replay.py);
- `python:pkg.module:metadata`: a scratch database loaded with the DDL of SQLAlchemy models.

Scratch databases are dropped when `open_source` exits. `_opener_for` is the one place that decides
what a source spec means; the dialect does everything engine-specific.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path

from . import dialects
from .dialects.base import Dialect, ScratchServer
from .errors import SourceError
from .models_source import MODELS_PREFIX, models_sql
from .sqlfiles import SqlFile, read_sql_file, sql_paths
from .urls import normalize_url

MIGRATIONS_PREFIX = "migrations:"

Opener = Callable[[str, Dialect, ScratchServer], AbstractContextManager[str]]


@contextmanager
def open_source(spec: str, dialect: Dialect | None = None, server: ScratchServer = ScratchServer()) -> Iterator[str]:
    """Yield a connection URL to a database holding the schema `spec` names; scratch ones are dropped
    after. `dialect` defaults to the one `spec` names (PostgreSQL for a file)."""
    with _opener_for(spec)(spec, dialect or dialects.choose([spec]), server) as url:
        yield url


def _opener_for(spec: str) -> Opener:
    """The one dispatch point from a source spec to the function that opens it."""
    if dialects.claimed_by(spec):
        return _open_live
    if spec == "empty":
        return _open_empty
    if spec.startswith(MIGRATIONS_PREFIX):
        return _open_migrations
    if spec.startswith(MODELS_PREFIX):
        return _open_models
    if "://" in spec:
        raise SourceError(f"{spec.split('://')[0]}://…: unsupported URL scheme (expected postgresql://, sqlite:/// "
                          "or one of the other dialects': " + ", ".join(dialects.names()) + ")")
    return _open_path


@contextmanager
def _open_live(spec: str, dialect: Dialect, server: ScratchServer) -> Iterator[str]:
    url = normalize_url(spec)
    with closing(dialect.connect(url)):
        pass
    yield url


def _open_empty(spec: str, dialect: Dialect, server: ScratchServer) -> AbstractContextManager[str]:
    return dialect.empty(server)


def _open_path(spec: str, dialect: Dialect, server: ScratchServer) -> AbstractContextManager[str]:
    return dialect.loaded([read_sql_file(path) for path in sql_paths(spec)], server)


@contextmanager
def _open_migrations(spec: str, dialect: Dialect, server: ScratchServer) -> Iterator[str]:
    from .migrations.replay import replayed

    with replayed(Path(spec[len(MIGRATIONS_PREFIX):] or "migrations"), dev_url=server.dev_url,
                  pg_bin=server.bin_dir, dialect=dialect.name) as url:
        yield url


def _open_models(spec: str, dialect: Dialect, server: ScratchServer) -> AbstractContextManager[str]:
    return dialect.loaded([SqlFile(spec, models_sql(spec, dialect.sqlalchemy_url))], server)
