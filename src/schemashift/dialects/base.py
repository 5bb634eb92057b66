"""The one interface between the shared pipeline and an engine.

The pipeline (sources, model, differ, plan, safety gate, CLI) never names an engine: it asks the
dialect chosen for the sources (see `dialects.choose`) to open scratch databases, load SQL, inspect,
render the differ's changes and apply a plan. A dialect is a package under `dialects/` whose
`__init__` describes it cheaply (`NAME`, `claims`, `owns_connection`) and whose `make_dialect()` builds
the `Dialect` below, importing its driver only then.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ..differ import Change
from ..migrations.backend import RunBackend
from ..model import Column, DbObject, Key, Schema, Table
from ..plan import Plan
from ..sqlfiles import SqlFile


@dataclass(frozen=True)
class InspectOptions:
    """What part of a database to read. Engines without namespaces ignore the schema filters."""

    schemas: tuple[str, ...] = ()
    exclude_schemas: tuple[str, ...] = ()
    ignore_extension_versions: bool = False


@dataclass(frozen=True)
class ScratchServer:
    """Where scratch databases go: a server the user runs (`dev_url`), or one the dialect starts
    from the binaries in `bin_dir` (None: the dialect's default)."""

    dev_url: str | None = None
    bin_dir: str | None = None


class Dialect(Protocol):
    """An engine, as the pipeline sees it."""

    name: str
    # The SQLAlchemy URL whose dialect compiles `python:` models' DDL for this engine.
    sqlalchemy_url: str

    # --- databases -------------------------------------------------------------------------------
    def connect(self, url: str) -> Any:
        """A connection in autocommit mode, or a one-line SourceError (no password in it)."""

    def empty(self, server: ScratchServer) -> AbstractContextManager[str]:
        """The URL of a fresh scratch database, dropped on exit."""

    def loaded(self, files: list[SqlFile], server: ScratchServer) -> AbstractContextManager[str]:
        """The URL of a scratch database loaded with `files` in order, dropped on exit; a LoadError
        naming file and line when the engine refuses a statement."""

    def scratch_identity(self, server: ScratchServer) -> str | None:
        """What, besides a text, decides the schema `server` loads from it (its version and
        settings), found without starting a server; None: loaded schemas are not kept (see
        schema_cache)."""

    def for_comparison(self, sources: Iterable[object], server: ScratchServer) -> ScratchServer:
        """The scratch server to load the other sides on when comparing with live `sources` (the
        same major version, where the engine prints schemas differently across versions)."""

    # --- the model -------------------------------------------------------------------------------
    def inspect(self, conn: Any, options: InspectOptions) -> Schema:
        """The schema model of the database behind `conn`, read as one snapshot."""

    def catalog_state(self, conn: Any) -> str | None:
        """A digest that changes whenever the schema of `conn`'s database may have, and is cheap
        next to inspecting it; None: its schemas are not kept (see schema_cache)."""

    # --- what the shared differ asks ---------------------------------------------------------------
    def can_alter(self, old: DbObject, new: DbObject) -> bool:
        """Whether the engine can ALTER `old` into `new` (else it is dropped and created)."""

    def owners(self, obj: DbObject) -> tuple[Key, ...]:
        """The objects whose drop takes `obj` with it."""

    def without_owner(self, obj: DbObject) -> DbObject:
        """`obj` without what only its owner's change would alter (compared on a recreate)."""

    def rename_identity(self, obj: DbObject) -> Hashable | None:
        """What stays the same when `obj` is renamed (None: the engine's renames are not detected)."""

    def rebuilt_by_column_type_change(self, key: Key) -> bool:
        """Whether an object of this key must be dropped and created around a column type change."""

    def retypes_columns(self, old: DbObject, new: DbObject) -> bool:
        """Whether changing the type `old` into `new` rebuilds it, retyping every column of it."""

    def recreates_column(self, table: Table, old: Column, new: Column, source: Schema, target: Schema) -> bool:
        """Whether the column's change is a drop and add (no conversion), which takes what reads it along."""

    # --- plans -----------------------------------------------------------------------------------
    def render(self, changes: list[Change], source: Schema, target: Schema) -> Plan:
        """The ordered statements that make the changes."""

    def label_locks(self, plan: Plan, source: Schema, target: Schema) -> Plan:
        """The plan with each statement's `locks` filled in where the engine's are known. Asked for
        only by callers that show them: labelling a GitLab-sized plan costs a third of its diff."""

    def apply(self, plan: Plan, conn: Any, *, lock_retries: int = 0) -> None:
        """Run `plan` on `conn` as a user's client would; a failure is one SchemashiftError line.
        `lock_retries`: times a transaction that hit its lock_timeout is run again (where there is one)."""

    # --- versioned migrations --------------------------------------------------------------------
    def run_backend(self) -> RunBackend:
        """How the migrations runner connects, locks, keeps history and executes on this engine."""

    def table_named(self, spec: str) -> tuple[str, str]:
        """(schema, name) of the table a `schema.name` setting (the history table) names here."""
