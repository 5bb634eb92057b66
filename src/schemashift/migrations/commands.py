"""Click wiring for the versioned side: parse options, build `Settings`, call the runner, print.

A database or file error that escaped the runner becomes a `SchemashiftError`, which the root group
(cli.py) prints as one line on stderr with exit code 1; no traceback reaches the user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..cli_options import no_cache_option
from ..config import Settings, find_config, load_settings
from ..errors import EXIT_ERROR, SchemashiftError, redact
from ..online_flags import lock_retries_option, online_options
from . import checksum
from .files import read_folder, write_new
from .fleet_cli import fleet_options

# The runner, psycopg and rich are imported by the commands that use them, not at start-up, so
# that `schemashift --help` stays fast.


SETTING_OPTIONS = ("url", "migrations", "history_table", "lock_timeout", "dev_url", "pg_bin", "target", "dialect",
                   "online", "online_lock_timeout", "lock_retries")


def _command(func: Callable[..., None]) -> click.Command:
    """A command taking the shared settings options, reporting errors as one line. A command that
    compares with the desired schema declares `--target` itself (`target_option`)."""

    @click.option("--url", help="Database URL (default: $DATABASE_URL).")
    @click.option("--migrations", type=click.Path(path_type=Path), help="Migrations folder (default: migrations).")
    @click.option("--history-table", help="History table as schema.name (default: public.schemashift_history).")
    @click.option("--lock-timeout", type=float, help="Seconds to wait for another run's lock (default: 600).")
    @click.option("--dev-url", metavar="URL", help="Server for throwaway databases [env: SCHEMASHIFT_DEV_URL].")
    @click.option("--dialect", metavar="NAME", help="postgresql, sqlite or mysql, when neither the URL nor the target "
                  "names the engine (default postgresql) [env: SCHEMASHIFT_DIALECT].")
    @click.option("--pg-bin", metavar="DIR", help="PostgreSQL binaries for the throwaway server and pg_dump "
                  "[env: SCHEMASHIFT_PG_BIN].")
    @no_cache_option
    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> None:
        settings = load_settings({name: kwargs.pop(name, None) for name in SETTING_OPTIONS})
        from ..dialects import driver_errors

        try:
            func(settings, **kwargs)
        except (*driver_errors(), OSError) as exc:
            raise SchemashiftError(str(exc) or type(exc).__name__) from None

    return click.command(name=func.__name__.rstrip("_"))(wrapper)


target_option = click.option(
    "--target", metavar="SOURCE",
    help="The desired schema: a .sql file or folder, python:pkg.module:metadata or a URL (default: `target` in "
         "schemashift.toml).")


@_command
def init(settings: Settings) -> None:
    """Create the migrations folder, its sum and a schemashift.toml."""
    settings.migrations.mkdir(parents=True, exist_ok=True)
    if not (settings.migrations / "schemashift.sum").exists():
        checksum.write(settings.migrations, [])
    if find_config(Path.cwd()) is None:
        Path("schemashift.toml").write_text(
            "# schemashift settings; flags and SCHEMASHIFT_* / DATABASE_URL override them.\n"
            f'migrations = "{settings.migrations.as_posix()}"\n'
            f'history_table = "{settings.history_table}"\n'
            '# url = "postgresql://user@host/dbname"\n'
        )
    click.echo(f"ready: {redact(str(settings.migrations))}")  # a folder named by a mistyped URL keeps its secret


@_command
@click.argument("message")
@target_option
@online_options
@click.option("--empty", is_flag=True, help="Write empty up and down sections instead of a diff.")
@click.option("--python", is_flag=True, help="Write a Python migration with up(conn) and down(conn).")
def new(settings: Settings, message: str, empty: bool, python: bool) -> None:
    """Write the next migration: by default the diff from the folder's schema to the target
    (up) and back (down); nothing is written when they are equal."""
    from .runner import Project

    if not (empty or python):
        from .autogenerate import generate

        generated = generate(settings, message)
        if generated.path is None:
            click.echo("no changes: the migrations already build the target; nothing written", err=True)
            return
        unsafe = len(generated.up.destructive) + len(generated.down.destructive)
        click.echo(str(generated.path))
        click.echo(f"{len(generated.up.statements)} statement(s) up, {len(generated.down.statements)} down"
                   + (f"; {unsafe} marked UNSAFE, review them" if unsafe else ""), err=True)
        return
    project = Project.load(settings)
    path = write_new(settings.migrations, project.files, message, python)
    checksum.write(settings.migrations, read_folder(settings.migrations))
    click.echo(str(path))


@_command
@target_option
@fleet_options
def check(settings: Settings) -> None:
    """Exit 0 when the database equals what the migrations build (and, with a target, the
    migrations build the target); else exit 1 and print the SQL that closes each gap."""
    from .drift import check as run_check

    result = run_check(settings)
    for name in result.pending:
        click.echo(f"-- pending: {name} (run `schemashift up`)")
    if result.drift:
        click.echo("-- the database differs from the migrations; this SQL brings it back:")
        click.echo(result.drift.text(mark_unsafe=True).rstrip("\n"))
    if result.unbuilt:
        click.echo("-- the migrations do not build the target; `schemashift new` would write:")
        click.echo(result.unbuilt.text(mark_unsafe=True).rstrip("\n"))
    if not result.ok:
        raise click.exceptions.Exit(EXIT_ERROR)
    click.echo("ok: the database matches the migrations" + (" and the target" if settings.target else ""), err=True)


@_command
@target_option
@online_options
@lock_retries_option
@click.option("--yes", is_flag=True, help="Apply without asking.")
@click.option("--unsafe", is_flag=True, help="Allow destructive statements (drops, data-losing type changes).")
def sync(settings: Settings, yes: bool, unsafe: bool) -> None:
    """Bring the database at --url to the target directly (for development databases): show the
    SQL, ask, apply, then compare again."""
    from .drift import Sync

    pair = Sync.of(settings)
    plan = pair.plan()
    if not plan:
        click.echo("already in sync", err=True)
        return
    click.echo(plan.text(mark_unsafe=True).rstrip("\n"))
    if not unsafe:
        plan.check_safe()
    if not yes and not click.confirm(f"apply these {len(plan.statements)} statement(s)?", err=True):
        raise click.Abort
    pair.apply(plan)
    click.echo(f"applied {len(plan.statements)} statement(s); the database matches the target", err=True)


@_command
@target_option
def test(settings: Settings) -> None:
    """On a throwaway database, run each migration up, down and up again; exit 1 at the first whose
    down does not restore the schema (and, with a target, if the end result is not the target)."""
    from .roundtrip import roundtrip

    failure = roundtrip(settings, click.echo)
    if failure is not None:
        click.echo(f"FAIL  {failure.migration}: {failure.what}:")
        click.echo(failure.fix.text().rstrip("\n"))
        raise click.exceptions.Exit(EXIT_ERROR)


@_command
def hash_(settings: Settings) -> None:
    """Rewrite schemashift.sum for the folder as it is now."""
    click.echo(str(checksum.write(settings.migrations, read_folder(settings.migrations))))


@_command
@lock_retries_option
@click.option("--to", help="Apply up to this version (default: all).")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (no connection).")
@click.option("--allow-changed", is_flag=True, help="Accept applied files whose content changed, once.")
@click.option("--backup", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Back the database up to FILE first: on PostgreSQL a pg_dump (.sql: plain SQL, else pg_dump's "
                   "custom format), on SQLite a copy of the file.")
@click.option("--strict", is_flag=True, help="Refuse to apply when the lint of a pending migration finds an error.")
@fleet_options
def up(settings: Settings, to: str | None, sql: bool, allow_changed: bool, backup: Path | None, strict: bool) -> None:
    """Apply pending migrations. On PostgreSQL, the error-level lint findings of their up sections
    are printed first (`schemashift lint` shows the warnings too); with --strict any of them
    refuses them all."""
    from . import runner
    from .progress import Progress
    from .runner import Project

    if sql and backup is not None:
        raise SchemashiftError("pass --sql or --backup, not both (--sql connects to nothing to back up)")
    project = Project.load(settings)
    if sql:
        click.echo(project.backend.script(project, "up", to, None), nl=False)
        return
    progress = Progress()

    def dump(conn: Any) -> None:
        progress.start(f"backing up to {backup}")
        try:
            project.backend.backup(conn, settings.url or "", backup, settings.pg_bin)  # type: ignore[arg-type]
        finally:
            progress.stop()
        progress.finished(f"backed up to {backup}")

    from ..lint_command import vet_pending

    runner.up(project, to, allow_changed, progress, dump if backup else None,
              vet_pending(settings, strict, progress.note))


@_command
@click.option("--to", help="Revert every migration above this version, or `base` for all.")
@click.option("--steps", type=click.IntRange(min=1), help="Revert this many migrations (default: 1).")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (no connection).")
@click.option("--allow-changed", is_flag=True, help="Accept applied files whose content changed, once.")
def down(settings: Settings, to: str | None, steps: int | None, sql: bool, allow_changed: bool) -> None:
    """Revert applied migrations, newest first."""
    from . import runner
    from .progress import Progress
    from .runner import Project

    if to is not None and steps is not None:
        raise SchemashiftError("pass --to or --steps, not both")
    project = Project.load(settings)
    if sql:
        click.echo(project.backend.script(project, "down", to, steps), nl=False)
    else:
        runner.down(project, to, steps, allow_changed, Progress())


@_command
@fleet_options
def status(settings: Settings) -> None:
    """Show the current version and what is pending, changed or missing; exit 1 if anything is."""
    from . import runner
    from .runner import Project

    project = Project.load(settings)
    result = runner.status(project)
    current = result.state.current
    click.echo(f"current: {result.state.applied[current].name if current is not None else 'none'}")
    for migration in result.pending:
        click.echo(f"pending: {migration.name}")
    for migration in result.changed:
        click.echo(f"changed: {migration.path} (edited after it was applied)")
    for row in result.missing:
        click.echo(f"missing: {row.name} (applied, file gone)")
    for (_, direction), row in sorted(result.state.partial.items()):
        click.echo(f"partial: {row.name} {direction} stopped after {row.steps_done} step(s): {row.error or 'interrupted'}")
    if not result.ok:
        raise click.exceptions.Exit(EXIT_ERROR)


@_command
def history(settings: Settings) -> None:
    """List every recorded attempt, oldest first."""
    from . import runner

    for row in runner.history(settings):
        outcome = "ok" if row.success else "FAILED"
        took = f"{row.duration_ms} ms" if row.duration_ms is not None else "-"
        error = f"  {row.error}" if row.error else ""
        click.echo(f"{row.id}\t{row.applied_at:%Y-%m-%d %H:%M:%S}\t{row.action}\t{outcome}\t{row.name}"
                   f"\t{took}\t{row.applied_by}{error}")


@_command
@click.argument("version")
def stamp(settings: Settings, version: str) -> None:
    """Record the database as at VERSION (or `base`) without running any migration."""
    from . import runner
    from .progress import Progress
    from .runner import Project

    runner.stamp(Project.load(settings), version, Progress())


@_command
@click.argument("version")
def baseline(settings: Settings, version: str) -> None:
    """Adopt an existing database: record every migration up to VERSION as applied."""
    from . import runner
    from .progress import Progress
    from .runner import Project

    runner.baseline(Project.load(settings), version, Progress())


COMMANDS = [init, new, check, sync, test, hash_, up, down, status, history, stamp, baseline]
