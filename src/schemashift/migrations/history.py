"""The history table: one row per attempt to change a version's state, never updated after it ends.

A row says what was done (`up`, `down`, `stamp`, `unstamp`, `baseline`, `accept`), to which file
(version, name, checksum), by whom, when, how long it took, whether it succeeded, and the error if
not. The current state is a fold over the rows in order: a successful `up`/`stamp`/`baseline`/
`accept` makes a version applied with that checksum, a successful `down`/`unstamp` makes it not
applied, a failed row changes nothing. A migration that runs in several steps (see dialects/postgres/steps.py) counts
its committed steps in `steps_done` while it runs; a failed or interrupted row with steps done is a
resume point, so the next run continues after the last committed step instead of repeating it.

The table name is `schema.name` (`--history-table`), so several apps can share a database, each
with its own table and its own lock. Each dialect writes the table in its own SQL (its run backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import MigrationsError

APPLYING = frozenset({"up", "stamp", "baseline", "accept"})
REVERTING = frozenset({"down", "unstamp"})
@dataclass(frozen=True)
class Row:
    id: int
    version: int
    name: str
    checksum: str
    action: str
    success: bool
    steps_done: int
    applied_at: datetime
    applied_by: str
    duration_ms: int | None
    error: str | None


ROW_COLUMNS = tuple(Row.__dataclass_fields__)


@dataclass
class State:
    """What the rows say now: applied versions, and unfinished multi-step attempts by direction."""

    applied: dict[int, Row] = field(default_factory=dict)
    partial: dict[tuple[int, str], Row] = field(default_factory=dict)

    @classmethod
    def fold(cls, rows: list[Row]) -> State:
        state = cls()
        for row in rows:
            if not row.success:
                if row.steps_done:
                    state.partial[(row.version, row.action)] = row
                continue
            state.partial.pop((row.version, row.action), None)
            if row.action in APPLYING:
                state.applied[row.version] = row
            else:
                state.applied.pop(row.version, None)
        return state

    @property
    def current(self) -> int | None:
        return max(self.applied, default=None)


@dataclass(frozen=True)
class HistoryTable:
    """A history table named `schema.name` (or `name`, in `public`)."""

    schema: str
    name: str

    @classmethod
    def parse(cls, spec: str) -> HistoryTable:
        parts = spec.split(".")
        if len(parts) > 2 or not all(parts):
            raise MigrationsError(f"--history-table must be `schema.name` or `name`, not {spec!r}")
        return cls(*parts) if len(parts) == 2 else cls("public", parts[0])

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def flat_name(self) -> str:
        """The name in an engine whose database is one namespace (SQLite, MySQL): `name` for the
        schemas `public` and `main`, else `schema_name`."""
        return self.name if self.schema in ("public", "main") else f"{self.schema}_{self.name}"
