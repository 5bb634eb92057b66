"""The online commands: up, down, stamp, baseline, status, history.

Every changing command first checks the folder against its sum, then takes the run lock, then
checks the history against the folder (no applied file may have changed or vanished), and only
then decides what to run, so two concurrent runs never decide from a stale view.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..config import Settings
from . import checksum
from .backend import RunBackend
from .engine import backend_for
from .errors import HistoryMismatch, MigrationsError, UnknownVersion
from .files import MigrationFile, read_folder
from .history import HistoryTable, Row, State
from .progress import Progress

BASE = "base"


@dataclass(frozen=True)
class Project:
    """A migrations folder (checked against its sum) and the history table it is recorded in."""

    settings: Settings
    files: list[MigrationFile]

    @classmethod
    def load(cls, settings: Settings) -> Project:
        files = read_folder(settings.migrations)
        checksum.verify(settings.migrations, files)
        return cls(settings, files)

    @cached_property
    def backend(self) -> RunBackend:
        return backend_for(self.settings)

    @property
    def table(self) -> HistoryTable:
        return HistoryTable.parse(self.settings.history_table)

    @property
    def by_version(self) -> dict[int, MigrationFile]:
        return {f.version: f for f in self.files}

    def version(self, text: str) -> int:
        """A version named on the command line (`7`, `0007`); it must name a file."""
        if text.isdigit() and int(text) in self.by_version:
            return int(text)
        raise UnknownVersion(f"no migration with version {text!r} in {self.settings.migrations}")

    def session(self, progress: Progress) -> AbstractContextManager[Any]:
        """A locked connection; tells the user when it has to wait for another run."""
        return self.backend.session(self.settings.url, self.table, self.settings.lock_timeout,
                                    lambda: progress.note("waiting for another schemashift run to finish"))

    def state(self, conn: Any) -> State:
        return State.fold(self.backend.rows(conn, self.table))

    def record(self, conn: Any, migration: MigrationFile | Row, action: str) -> None:
        self.backend.record(conn, self.table, migration.version, migration.name, migration.checksum, action)


@dataclass
class Status:
    """How the database's history and the folder compare."""

    state: State
    pending: list[MigrationFile] = field(default_factory=list)
    changed: list[MigrationFile] = field(default_factory=list)
    missing: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.pending or self.changed or self.missing or self.state.partial)


def compare(project: Project, state: State) -> Status:
    files = project.by_version
    return Status(
        state,
        pending=[f for f in project.files if f.version not in state.applied],
        changed=[f for v, f in files.items() if v in state.applied and state.applied[v].checksum != f.checksum],
        missing=[row for v, row in sorted(state.applied.items()) if v not in files],
    )


def _check_history(project: Project, status: Status, conn: Any, allow_changed: bool) -> None:
    """Refuse a history that no longer matches the folder; `--allow-changed` records acceptance."""
    if status.missing:
        row = status.missing[0]
        raise HistoryMismatch(f"{project.settings.migrations / row.name}: applied as version "
                              f"{row.version} but the file is missing")
    if status.changed and not allow_changed:
        raise HistoryMismatch(f"{status.changed[0].path}: changed after it was applied "
                              "(pass --allow-changed to accept the new content once)")
    for migration in status.changed:
        project.record(conn, migration, "accept")


VERBS = {"up": ("applying", "applied", "nothing to apply"),
         "down": ("reverting", "reverted", "nothing to revert")}


def _run(project: Project, direction: str, allow_changed: bool, progress: Progress,
         choose: Callable[[Status], list[MigrationFile]],
         before: Callable[[Any], None] | None = None,
         vet: Callable[[Any, list[MigrationFile]], None] | None = None) -> int:
    """Up and down alike: lock, check the history, refuse to start while a run the other way is
    half done, then run what `choose` picks from the fresh status; return how many ran. `vet`
    sees what was chosen first and may refuse it (the lint of `up`); `before` runs under the lock
    once there is something to run (the backup of `up --backup`)."""
    other = "down" if direction == "up" else "up"
    doing, done, nothing = VERBS[direction]
    with project.session(progress) as conn:
        status = compare(project, project.state(conn))
        _check_history(project, status, conn, allow_changed)
        for (_, partial), row in status.state.partial.items():
            if partial == other:
                raise MigrationsError(f"{project.settings.migrations / row.name}: its {other} was "
                                      f"interrupted; finish it with `schemashift {other}` first")
        chosen = choose(status)
        if chosen and vet is not None:
            vet(conn, chosen)
        if chosen and before is not None:
            before(conn)
        executor = project.backend.executor(conn, project.table, allow_changed)
        with project.backend.durable(conn):
            try:
                for migration, ms in executor.run_all(chosen, direction, status.state,
                                                      lambda what: progress.start(f"{doing} {what}")):
                    progress.finished(f"{done} {migration.name}", ms)
            finally:
                progress.stop()
    if not chosen:
        progress.note(nothing)
    return len(chosen)


def up(project: Project, to: str | None, allow_changed: bool, progress: Progress,
       before: Callable[[Any], None] | None = None,
       vet: Callable[[Any, list[MigrationFile]], None] | None = None) -> int:
    """Apply pending migrations up to `to` (default: all), oldest first; return how many ran."""
    target = project.version(to) if to else None

    def choose(status: Status) -> list[MigrationFile]:
        pending = [f for f in status.pending if target is None or f.version <= target]
        current = status.state.current
        if pending and current is not None and pending[0].version < current:
            raise HistoryMismatch(f"{pending[0].path}: pending, but the later version {current} "
                                  "is already applied")
        return pending

    return _run(project, "up", allow_changed, progress, choose, before, vet)


def down_targets(applied: list[int], project: Project, to: str | None, steps: int | None) -> list[int]:
    """Versions to revert, newest first: all above `to`, everything for `base`, else `steps` (1)."""
    newest_first = sorted(applied, reverse=True)
    if to == BASE:
        return newest_first
    if to is not None:
        floor = project.version(to)
        return [v for v in newest_first if v > floor]
    return newest_first[: 1 if steps is None else steps]


def down(project: Project, to: str | None, steps: int | None, allow_changed: bool,
         progress: Progress) -> int:
    """Revert applied migrations, newest first; return how many ran."""

    def choose(status: Status) -> list[MigrationFile]:
        versions = down_targets(list(status.state.applied), project, to, steps)
        return [project.by_version[v] for v in versions]

    return _run(project, "down", allow_changed, progress, choose)


def stamp(project: Project, to: str, progress: Progress) -> None:
    """Record the database as being exactly at `to` (or `base`) without running anything."""
    target = 0 if to == BASE else project.version(to)
    with project.session(progress) as conn, project.backend.transaction(conn):
        state = project.state(conn)
        for migration in project.files:
            if migration.version <= target and migration.version not in state.applied:
                project.record(conn, migration, "stamp")
        for version, row in state.applied.items():
            if version > target:
                project.record(conn, row, "unstamp")
    progress.finished(f"stamped at {to}")


def baseline(project: Project, to: str, progress: Progress) -> None:
    """Adopt a database built some other way: record every file up to `to` as applied."""
    target = project.version(to)
    with project.session(progress) as conn, project.backend.transaction(conn):
        if project.backend.rows(conn, project.table):
            raise MigrationsError(f"{project.table} already has history; use `schemashift stamp`")
        for migration in project.files:
            if migration.version <= target:
                project.record(conn, migration, "baseline")
    progress.finished(f"baselined at {to}")


def status(project: Project) -> Status:
    with project.backend.reader(project.settings.url) as conn:
        return compare(project, project.state(conn))


def history(settings: Settings) -> list[Row]:
    backend = backend_for(settings)
    with backend.reader(settings.url) as conn:
        return backend.rows(conn, HistoryTable.parse(settings.history_table))
