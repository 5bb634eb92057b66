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

from .. import dialects
from ..config import Settings
from ..dialects.base import ScratchServer
from .history import HistoryTable
from .progress import Progress

REPLAY_SCHEMA = "schemashift_replay"


def replay(url: str, folder: Path, to: int | None = None, history_table: str | None = None) -> None:
    """Apply the folder's migrations (up to version `to`, default all) to the database at `url`.
    With `history_table` they are recorded there, as `up` would; without, no trace is left."""
    from . import runner

    table = history_table or f"{REPLAY_SCHEMA}.history"
    project = runner.Project.load(Settings(url=url, migrations=folder, history_table=table))
    if to is None or to > 0:
        runner.up(project, None if to is None else str(to), False, Progress(io.StringIO()))
    if history_table is None:
        with project.backend.reader(url) as conn:
            project.backend.forget(conn, HistoryTable.parse(table))


@contextlib.contextmanager
def replayed(folder: Path, to: int | None = None, *, dev_url: str | None = None,
             pg_bin: str | None = None, dialect: str | None = None) -> Iterator[str]:
    """A scratch database of `dialect` (default PostgreSQL) with the folder replayed (up to
    `to`), dropped on exit."""
    with dialects.choose([], dialect).empty(ScratchServer(dev_url, pg_bin)) as url:
        replay(url, folder, to)
        yield url
