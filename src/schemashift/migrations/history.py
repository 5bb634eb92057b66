"""The history table: one row per attempt to change a version's state, never updated after it ends.

A row says what was done (`up`, `down`, `stamp`, `unstamp`, `baseline`, `accept`), to which file
(version, name, checksum), by whom, when, how long it took, whether it succeeded, and the error if
not. The current state is a fold over the rows in order: a successful `up`/`stamp`/`baseline`/
`accept` makes a version applied with that checksum, a successful `down`/`unstamp` makes it not
applied, a failed row changes nothing. A migration that runs in several steps (see dialects/postgres/steps.py) counts
its committed steps in `steps_done` while it runs; a failed or interrupted row with steps done is a
resume point, so the next run continues after the last committed step instead of repeating it.

The table name is `schema.name` (`--history-table`), so several apps can share a database, each
with its own table and its own lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from .errors import MigrationsError

APPLYING = frozenset({"up", "stamp", "baseline", "accept"})
REVERTING = frozenset({"down", "unstamp"})
# A duration measured by the server: from the start of the current transaction until now.
TRANSACTION_DURATION = sql.SQL("round(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint")

# A statement and its parameters (`sql.Placeholder`s). With its values sent apart, a history row's
# statement has the same text for every migration, so psycopg prepares it after a few uses and the
# server parses and plans it once a run: ~0.15 ms of server time a row became ~0.07 ms.
Bound = tuple[sql.Composed, tuple[object, ...]]


def inline(statement: Bound) -> sql.Composed:
    """The statement with its parameters written in as literals: for a script psql runs."""
    values = iter(statement[1])

    def fill(part: sql.Composable) -> sql.Composable:
        if isinstance(part, sql.Placeholder):
            return sql.Literal(next(values))
        return sql.Composed([fill(p) for p in part]) if isinstance(part, sql.Composed) else part

    return sql.Composed([fill(part) for part in statement[0]])


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
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def lock_key(self) -> int:
        """A signed 64-bit advisory lock key of its own, so two tables never block each other."""
        digest = hashlib.sha256(f"schemashift:{self}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def ddl(self) -> list[sql.Composed]:
        return [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (\n"
                "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                "    version bigint NOT NULL,\n"
                "    name text NOT NULL,\n"
                "    checksum text NOT NULL,\n"
                "    action text NOT NULL,\n"
                "    success boolean NOT NULL,\n"
                "    steps_done integer NOT NULL DEFAULT 0,\n"
                "    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
                "    applied_by text NOT NULL DEFAULT current_user,\n"
                "    duration_ms bigint,\n"
                "    error text\n"
                ")"
            ).format(self.ident),
        ]

    def ensure(self, conn: psycopg.Connection) -> None:
        """Create the table if missing; call it with the lock held, so creation never races."""
        if self.exists(conn):
            return
        for statement in self.ddl():
            conn.execute(statement)

    def exists(self, conn: psycopg.Connection) -> bool:
        found = conn.execute("SELECT to_regclass(%s)", [self.ident.as_string(conn)]).fetchone()
        return found is not None and found[0] is not None

    def rows(self, conn: psycopg.Connection) -> list[Row]:
        if not self.exists(conn):
            return []
        self._check_columns(conn)
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in ROW_COLUMNS)
        with conn.cursor(row_factory=class_row(Row)) as cur:
            return cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY id").format(columns, self.ident)).fetchall()

    def _check_columns(self, conn: psycopg.Connection) -> None:
        """Refuse a table of this name that is not a history table (another tool's, say) before
        anything reads or writes it."""
        found = {name for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            [self.ident.as_string(conn)])}
        missing = [name for name in ROW_COLUMNS if name not in found]
        if missing:
            raise MigrationsError(f"{self} exists but is not a schemashift history table (no column "
                                  f"{', '.join(missing)}); name another with --history-table")

    def state(self, conn: psycopg.Connection) -> State:
        return State.fold(self.rows(conn))

    def insert(self, version: int, name: str, checksum: str, action: str, *, success: bool,
               steps_done: int = 0, duration_ms: int | sql.Composable | None = None, error: str | None = None,
               returning: bool = False) -> Bound:
        """One history row: values as parameters, SQL (such as TRANSACTION_DURATION) in the text.
        Run online, or printed by `--sql` through `inline`."""
        values = [version, name, checksum, action, success, steps_done, duration_ms, error]
        return sql.SQL(
            "INSERT INTO {} (version, name, checksum, action, success, steps_done, duration_ms, error) "
            "VALUES ({}){}"
        ).format(
            self.ident,
            sql.SQL(", ").join(v if isinstance(v, sql.Composable) else sql.Placeholder() for v in values),
            sql.SQL(" RETURNING id, duration_ms") if returning else sql.SQL(""),
        ), tuple(v for v in values if not isinstance(v, sql.Composable))

    def update(self, row_id: int, **values: object) -> Bound:
        """Record progress or the end of a running attempt (`steps_done`, `success`, `error`...)."""
        return sql.SQL("UPDATE {} SET {} WHERE id = {}").format(
            self.ident,
            sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in values),
            sql.Placeholder(),
        ), (*values.values(), row_id)
