"""A replay that starts from the longest cached prefix of the folder (see template_cache).

Each migration's key is its chained hash from `schemashift.sum` (with the history table's name), so
the template for migration N holds exactly what migrations 1..N build, with their history rows: a
clone of it continues through the ordinary runner, which applies only what comes after. While
replaying, the state is kept at checkpoints: every `CHECKPOINT_EVERY`-th migration and the last two
(adding a migration then replays one; editing the newest replays one too), each a copy of the
database between two runs of the runner. Older ones are kept sparsely: a migration that has been
applied somewhere cannot be edited anyway (`up` refuses it), and each checkpoint costs a copy.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ...config import Settings
from ...migrations import checksum
from ...migrations.history import HistoryTable
from ...migrations.files import MigrationFile
from ...migrations.progress import Progress
from .servers import Server
from .template_cache import cache_for

CHECKPOINT_EVERY = 100

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Replayed:
    """A scratch database with the folder replayed, and how it was made."""

    database: str
    cached: int  # migrations that came from a template
    applied: int  # migrations the runner ran


def build(server: Server, folder: Path, to: int | None, history_table: str) -> Replayed:
    """A new scratch database on `server` holding the folder's migrations up to version `to`
    (default all), recorded in `history_table`."""
    from ...migrations import runner

    project = runner.Project.load(Settings(migrations=folder, history_table=history_table))  # checks the sum
    files = [f for f in project.files if to is None or f.version <= to]
    cache = cache_for(server)
    keys = [cache.key("replay", history_table, digest) for _, digest in checksum.compute(files)[1]]
    start = cache.longest(keys)
    database = cache.clone(keys[start - 1]) if start else server.create_database()
    if database is None:  # evicted between the look-up and the clone
        start, database = 0, server.create_database()
    project = dataclasses.replace(project, settings=dataclasses.replace(project.settings, url=server.url(database)))
    applied = 0
    try:
        stops = _checkpoints(start, len(files)) if cache.policy.enabled else [len(files)][:len(files)]
        for stop in stops:
            applied += runner.up(project, str(files[stop - 1].version), False, Progress(io.StringIO()))
            cache.save(database, keys[stop - 1], "replay", _label(folder, files[stop - 1]))
    except BaseException:
        server.drop_database(database)
        raise
    if applied:
        cache.evict()
    log.info("replayed %s: %d migration(s) from a template, %d applied", folder, start, applied)
    return Replayed(database, start, applied)


def _checkpoints(start: int, count: int) -> list[int]:
    """The positions after `start` at which the state is kept; the last one is always `count`."""
    wanted = {count - 1, count, *range(CHECKPOINT_EVERY, count, CHECKPOINT_EVERY)}
    return sorted(p for p in wanted if p > start)


def _label(folder: Path, migration: MigrationFile) -> str:
    return f"{folder.resolve()}/{migration.name}"


@contextmanager
def replayed(server: Server, folder: Path, to: int | None, history_table: str) -> Iterator[str]:
    """The URL of a scratch database with the folder replayed (see `build`), its history table
    dropped (it is bookkeeping of the replay, not schema), dropped on exit."""
    from .run_backend import PostgresRunBackend

    database = build(server, folder, to, history_table).database
    try:
        with psycopg.connect(server.url(database), autocommit=True) as conn:
            PostgresRunBackend().forget(conn, HistoryTable.parse(history_table))
        yield server.url(database)
    finally:
        server.drop_database(database)
