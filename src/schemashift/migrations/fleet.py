"""Many databases at once: `up`, `status` and `check` over a list of targets, N at a time.

A target is a database (a line of `--targets FILE`) or a schema of one database (`--each-schema
PATTERN`, schema-per-tenant). Each target is an ordinary single run on its own connection, with its
own history table and so its own run lock: a database's table is `--history-table`; a schema's is
the table of that name in the schema itself, and its migrations run with `search_path` set to the
schema, so unqualified names land there. Nothing is shared between targets but the migrations
folder, read and checked against its sum once.

A target that fails is reported and the others go on (`--fail-fast`: targets not yet started are
skipped). A rerun is the same command again: each target's history says what it still lacks, so
targets at head only connect and find nothing to do.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ..config import Settings
from ..errors import SchemashiftError, redact
from ..urls import normalize_url
from .errors import MigrationsError
from .history import HistoryTable
from .progress import Progress, Running
from .runner import Project
from .tenant_schema import in_schema

DONE, FAILED, SKIPPED, OK, BEHIND = "done", "failed", "skipped", "ok", "behind"

def target_failures() -> tuple[type[BaseException], ...]:
    """What stops one target and not the others: a user-facing error, a driver's, the network's."""
    from .. import dialects

    return (SchemashiftError, OSError, *dialects.driver_errors())

ENV_REFERENCE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_]\w*)\}|(?P<bare>[A-Za-z_]\w*))")
SYSTEM_SCHEMAS = "left(nspname, 3) <> 'pg_' AND nspname <> 'information_schema'"


class TargetsError(MigrationsError):
    """The targets file or schema pattern gives no usable list of targets; names the line."""


@dataclass(frozen=True)
class Target:
    label: str  # what the user sees: the URL with its password hidden, or the schema's name
    url: str
    history_table: str
    schema: str | None = None  # the tenant's schema, for a target of --each-schema


@dataclass(frozen=True)
class Outcome:
    """How one target ended. `applied` is what this run applied (`up`) or what the database has
    applied (`status`, `check`); None where it could not be known."""

    target: Target
    state: str
    ok: bool
    applied: int | None = None
    pending: int | None = None
    error: str | None = None


class TargetProgress(Progress):
    """One target's progress in a fleet run: what the runner reports is kept for the fleet's display
    to show (what runs now, since when; how many applied), not printed where it happens."""

    def __init__(self) -> None:  # no stream of its own: the display owns the terminal
        self.running: Running | None = None
        self.applied = 0

    def start(self, text: str) -> None:
        self.running = Running(text)

    def finished(self, text: str, ms: int | None = None) -> None:
        self.running = None
        self.applied += 1

    def note(self, text: str) -> None:
        self.running = Running(text)

    def stop(self) -> None:
        self.running = None


class Display(Protocol):
    """Where a fleet run shows its targets as they start and end (see fleet_display)."""

    def __enter__(self) -> Display: ...
    def __exit__(self, *exc: object) -> None: ...
    def started(self, target: Target, progress: TargetProgress) -> None: ...
    def finished(self, outcome: Outcome) -> None: ...


def read_targets(path: Path, history_table: str, env: Mapping[str, str] | None = None) -> list[Target]:
    """One target per line of `path`; `#` comments and blank lines skipped, `${NAME}` / `$NAME`
    taken from the environment. A line that is no database URL is an error naming it."""
    env = os.environ if env is None else env
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetsError(f"cannot read the targets file {path}: {exc}") from None
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        url = normalize_url(_expand(text, env, f"{path}:{number}"))
        if not _is_database_url(url):
            raise TargetsError(f"{path}:{number}: not a database URL (postgresql://...): {redact(text)}")
        if url in seen:
            raise TargetsError(f"{path}:{number}: the same target as line {seen[url]}")
        seen[url] = number
        targets.append(Target(redact(url), url, history_table))
    if not targets:
        raise TargetsError(f"{path}: no targets (one database URL a line)")
    return targets


def _is_database_url(url: str) -> bool:
    """A URL of an engine schemashift knows; a PostgreSQL one must also parse as libpq reads it."""
    from .. import dialects

    if "://" not in url or dialects.claimed_by(url) is None:
        return False
    if url.startswith("postgresql://"):
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            return False
    return True


def _expand(text: str, env: Mapping[str, str], where: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        if name not in env:
            raise TargetsError(f"{where}: the environment variable {name} is not set")
        return env[name]

    return ENV_REFERENCE.sub(value, text)


def schema_targets(url: str | None, pattern: str, history_table: str) -> list[Target]:
    """A target per schema of the database at `url` whose name matches `pattern` (LIKE's `%` and
    `_`, or a glob's `*` and `?`), in name order; each keeps its history table in itself. Schemas
    and `search_path` are PostgreSQL's, so this is a PostgreSQL feature."""
    from ..dialects.postgres.run_session import connect

    if url and not url.startswith("postgresql://"):
        raise TargetsError(f"--each-schema needs a PostgreSQL database, not {redact(url)}")
    with connect(url) as conn:
        rows = conn.execute(f"SELECT nspname FROM pg_namespace WHERE nspname LIKE %s AND {SYSTEM_SCHEMAS} "
                            "ORDER BY nspname COLLATE \"C\"", [like_pattern(pattern)]).fetchall()
    if not rows:
        raise TargetsError(f"no schema matches {pattern!r} in {redact(url or '')}")
    name = HistoryTable.parse(history_table).name
    return [Target(schema, in_schema(url or "", schema), f"{schema}.{name}", schema) for (schema,) in rows]


def like_pattern(pattern: str) -> str:
    """A glob (`tenant_*`) as a LIKE pattern; a pattern without `*` or `?` is LIKE already."""
    if "*" not in pattern and "?" not in pattern:
        return pattern
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


Work = Callable[[Target, Project, Progress], Outcome]


def run(project: Project, targets: list[Target], work: Work, display: Display, jobs: int = 1,
        fail_fast: bool = False, applies: bool = True) -> list[Outcome]:
    """Run `work` on every target, `jobs` at a time, each on its own project settings; a failure is
    that target's outcome, with what it applied before failing when the work `applies` migrations
    (else unknown). With `fail_fast`, targets not started after the first failure are skipped."""
    stopped = threading.Event()

    def one(target: Target) -> Outcome:
        if stopped.is_set():
            outcome = Outcome(target, SKIPPED, False)
        else:
            progress = TargetProgress()
            display.started(target, progress)
            outcome = _attempt(target, for_target(project, target), work, progress, applies)
            if not outcome.ok and fail_fast:
                stopped.set()
        display.finished(outcome)
        return outcome

    with display, ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="schemashift-target") as pool:
        try:
            return list(pool.map(one, targets))
        except BaseException:  # Ctrl-C: the running targets end their run, the rest do not start
            stopped.set()
            raise


def for_target(project: Project, target: Target) -> Project:
    settings = dataclasses.replace(project.settings, url=target.url, history_table=target.history_table)
    return dataclasses.replace(project, settings=settings)


def _attempt(target: Target, project: Project, work: Work, progress: TargetProgress, applies: bool) -> Outcome:
    try:
        return work(target, project, progress)
    except target_failures() as exc:
        applied = progress.applied if applies else None
        return Outcome(target, FAILED, False, applied, _pending(project), one_line(exc))


def _pending(project: Project) -> int | None:
    """How many migrations the target still lacks, or None if that cannot be read now."""
    from . import runner

    try:
        return len(runner.status(project).pending)
    except target_failures():
        return None


def one_line(exc: BaseException) -> str:
    if isinstance(exc, SchemashiftError):
        return str(exc)
    return redact(" ".join(str(exc).split())) or type(exc).__name__


def up_work(to: str | None = None, allow_changed: bool = False, strict: bool = False) -> Work:
    """`up` on one target. With `strict` a target whose pending migrations the linter finds an error
    in is refused, as by `up --strict`; without, they are not linted (a fleet prints no findings)."""
    from ..lint_command import vet_pending
    from . import runner

    def work(target: Target, project: Project, progress: Progress) -> Outcome:
        vet = vet_pending(project.settings, strict, progress.note) if strict else None
        ran = runner.up(project, to, allow_changed, progress, None, vet)
        # A whole `up` that succeeded leaves none of the folder's files pending: no second look needed.
        return Outcome(target, DONE, True, ran, 0 if to is None else _pending(project))

    return work


def status_work() -> Work:
    from . import runner

    def work(target: Target, project: Project, progress: Progress) -> Outcome:
        result = runner.status(project)
        problems = [f"{len(result.pending)} pending"] if result.pending else []
        problems += [f"changed: {m.name}" for m in result.changed]
        problems += [f"missing: {row.name}" for row in result.missing]
        problems += [f"partial: {row.name}" for row in result.state.partial.values()]
        return Outcome(target, OK if result.ok else BEHIND, result.ok, len(result.state.applied),
                       len(result.pending), "; ".join(problems) or None)

    return work


def check_work() -> Work:
    from .drift import check
    from .tenant_schema import check_schema

    def work(target: Target, project: Project, progress: Progress) -> Outcome:
        progress.start("comparing")
        if target.schema is None:
            result = check(project.settings)
        else:
            result = check_schema(project.settings, target.schema)
        problems = [f"{len(result.pending)} pending"] if result.pending else []
        if result.drift:
            problems.append(f"{len(result.drift.statements)} statement(s) of drift, first: "
                            f"{result.drift.statements[0].sql.splitlines()[0]}")
        if result.unbuilt:
            problems.append(f"the migrations do not build the target ({len(result.unbuilt.statements)} statement(s))")
        return Outcome(target, OK if result.ok else BEHIND, result.ok, None, len(result.pending),
                       "; ".join(problems) or None)

    return work


WORKS: dict[str, Callable[..., Work]] = {"up": up_work, "status": status_work, "check": check_work}


def targets_of(settings: Settings, targets_file: Path | None, each_schema: str | None) -> list[Target]:
    if (targets_file is None) == (each_schema is None):
        raise TargetsError("pass --targets FILE or --each-schema PATTERN, not both")
    if targets_file is not None:
        return read_targets(targets_file, settings.history_table)
    return schema_targets(settings.url, each_schema or "", settings.history_table)


def run_command(command: str, settings: Settings, targets: list[Target], display: Display, jobs: int,
                fail_fast: bool, options: dict[str, Any]) -> list[Outcome]:
    """`command` (up, status, check) with its own options over the targets."""
    return run(Project.load(settings), targets, WORKS[command](**options), display, jobs, fail_fast,
               applies=command == "up")
