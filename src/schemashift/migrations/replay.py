"""Replay a migrations folder onto a database: the schema a folder stands for, as PostgreSQL builds it.

The replay is an ordinary `up` through the runner (the same splitting into non-transactional steps,
the same Python migrations, the same checksum verification), recorded in a history table of its own
that is dropped afterwards, so the replayed database holds exactly what the migrations create.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

from ..config import Settings
from ..servers import get_server
from .database import connect
from .progress import Progress

REPLAY_SCHEMA = "schemashift_replay"
REPLAY_HISTORY = f"{REPLAY_SCHEMA}.history"


def replay(url: str, folder: Path, to: int | None = None, history_table: str | None = None) -> None:
    """Apply the folder's migrations (up to version `to`, default all) to the database at `url`.
    With `history_table` they are recorded there, as `up` would; without, no trace is left."""
    from . import runner

    table = history_table or REPLAY_HISTORY
    project = runner.Project.load(Settings(url=url, migrations=folder, history_table=table))
    if to is None or to > 0:
        runner.up(project, None if to is None else str(to), False, Progress(io.StringIO()))
    if history_table is None:
        drop_replay_history(url)


def drop_replay_history(url: str) -> None:
    with connect(url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{REPLAY_SCHEMA}" CASCADE')


@contextlib.contextmanager
def replayed(folder: Path, to: int | None = None, *, dev_url: str | None = None,
             pg_bin: str | None = None) -> Iterator[str]:
    """A scratch database with the folder replayed (up to `to`), dropped on exit; it starts from
    the longest prefix of the folder kept as a template (see replay_cache)."""
    from .replay_cache import build

    server = get_server(dev_url, pg_bin)
    database = build(server, folder, to, REPLAY_HISTORY).database
    try:
        drop_replay_history(server.url(database))
        yield server.url(database)
    finally:
        server.drop_database(database)
