"""`schemashift test`: prove that every migration's down undoes its up.

On a throwaway database, for each migration in order: up, inspect, down, inspect (must equal the
schema before the up), up again (must equal the schema after the first up). The migrations run
through the runner itself, so what is tested is what `up` and `down` will do. The first migration
that does not round-trip stops the test, named, with the SQL its down section is missing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from ..config import Settings
from ..model import Schema
from ..plan import Plan
from ..dialects.base import ScratchServer
from .engine import dialect_of
from .progress import Progress
from .schemas import source_schema


@dataclass(frozen=True)
class Failure:
    migration: str
    what: str  # which comparison failed
    fix: Plan  # the SQL that would make the comparison equal


def roundtrip(settings: Settings, report: Callable[[str], None]) -> Failure | None:
    """Run the round trip of every migration, then compare with the target if one is configured;
    `report` gets one line per migration that passes."""
    from .. import api
    from . import runner

    quiet = Progress(io.StringIO())
    with dialect_of(settings).empty(ScratchServer(settings.dev_url, settings.pg_bin)) as url:
        scratch = Settings(url=url, migrations=settings.migrations, history_table=settings.history_table,
                           dev_url=settings.dev_url, pg_bin=settings.pg_bin, dialect=dialect_of(settings).name)
        project = runner.Project.load(scratch)

        def schema() -> Schema:
            return source_schema(scratch, url)

        before = schema()
        for migration in project.files:
            runner.up(project, str(migration.version), False, quiet)
            after = schema()
            runner.down(project, None, 1, False, quiet)
            missing = api.diff_schemas(schema(), before, locks=False)
            if missing:
                return Failure(migration.name, "down does not undo up; the down section misses", missing)
            runner.up(project, str(migration.version), False, quiet)
            again = schema()
            if again != after:
                return Failure(migration.name, "up after down builds a different schema; the difference",
                               api.diff_schemas(again, after, locks=False))
            report(f"ok  {migration.name}")
            before = after
        if settings.target:
            gap = api.diff_schemas(before, source_schema(scratch, settings.target), locks=False)
            if gap:
                return Failure("(all migrations)", "the folder does not build the target; it lacks", gap)
    return None
