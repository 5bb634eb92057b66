"""What the runner needs from an engine to run migrations and keep their history.

The runner (runner.py) decides what to run; a dialect's `RunBackend` knows how: the connection, the
lock that keeps two deployers apart (an advisory lock on PostgreSQL, a lock on the database file on
SQLite), the history table's SQL, transactions, and an executor that applies the chosen files and
records each. `engine.backend_for(settings)` picks the dialect from the URL (or `--dialect`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from .runner import Project
    from .files import MigrationFile
    from .history import HistoryTable, Row, State


class Executor(Protocol):
    def run_all(self, chosen: list[MigrationFile], direction: str, state: State,
                announce: Callable[[str], None]) -> Iterator[tuple[MigrationFile, int]]:
        """Apply or revert `chosen` in order, yielding each with its milliseconds once recorded."""


class RunBackend(Protocol):
    def session(self, url: str | None, table: HistoryTable, lock_timeout: float,
                on_wait: Callable[[], None]) -> AbstractContextManager[Any]:
        """A connection holding the run lock, with the history table created."""

    def reader(self, url: str | None) -> AbstractContextManager[Any]:
        """A connection for reading the history, without the lock."""

    def has_history(self, conn: Any, table: HistoryTable) -> bool:
        """Whether the history table exists (a database built without the runner has none)."""

    def forget(self, conn: Any, table: HistoryTable) -> None:
        """Drop the history table (after a replay, which must leave only what the migrations made)."""

    def rows(self, conn: Any, table: HistoryTable) -> list[Row]:
        """Every history row in order (none when the table does not exist yet)."""

    def record(self, conn: Any, table: HistoryTable, version: int, name: str, checksum: str, action: str) -> None:
        """A successful row for a change made without running anything (stamp, baseline, accept)."""

    def transaction(self, conn: Any) -> AbstractContextManager[None]:
        """A block whose rows are committed together."""

    def executor(self, conn: Any, table: HistoryTable, allow_changed: bool) -> Executor: ...

    def durable(self, conn: Any) -> AbstractContextManager[None]:
        """A block after which everything committed in it is on disk."""

    def backup(self, conn: Any, url: str, path: Path, bin_dir: str | None) -> None:
        """A copy of the database in `path` (`up --backup`), taken before anything runs."""

    def script(self, project: Project, direction: str, to: str | None, steps: int | None) -> str:
        """The SQL a run would execute, for the engine's own client (`up --sql`, `down --sql`)."""
