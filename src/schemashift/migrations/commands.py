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

from ..config import Settings, find_config, load_settings
from ..errors import EXIT_ERROR, SchemashiftError
from . import checksum
from .files import read_folder, write_new

# The runner, psycopg and rich are imported by the commands that use them, not at start-up, so
# that `schemashift --help` stays fast.


def _command(func: Callable[..., None]) -> click.Command:
    """A command taking the shared settings options, reporting errors as one line."""

    @click.option("--url", help="Database URL (default: $DATABASE_URL).")
    @click.option("--migrations", type=click.Path(path_type=Path), help="Migrations folder (default: migrations).")
    @click.option("--history-table", help="History table as schema.name (default: public.schemashift_history).")
    @click.option("--lock-timeout", type=float, help="Seconds to wait for another run's lock (default: 600).")
    @functools.wraps(func)
    def wrapper(url: str | None, migrations: Path | None, history_table: str | None,
                lock_timeout: float | None, **kwargs: Any) -> None:
        settings = load_settings(dict(url=url, migrations=migrations, history_table=history_table,
                                      lock_timeout=lock_timeout))
        import psycopg

        try:
            func(settings, **kwargs)
        except (psycopg.Error, OSError) as exc:
            raise SchemashiftError(str(exc) or type(exc).__name__) from None

    return click.command(name=func.__name__.rstrip("_"))(wrapper)


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
    click.echo(f"ready: {settings.migrations}")


@_command
@click.argument("message")
@click.option("--empty", is_flag=True, help="Write empty up and down sections.")
@click.option("--python", is_flag=True, help="Write a Python migration with up(conn) and down(conn).")
def new(settings: Settings, message: str, empty: bool, python: bool) -> None:
    """Write the next numbered migration file and update the sum."""
    from .runner import Project

    if not (empty or python):
        raise SchemashiftError("generating a migration from a schema diff is not available yet; pass --empty")
    project = Project.load(settings)
    path = write_new(settings.migrations, project.files, message, python)
    checksum.write(settings.migrations, read_folder(settings.migrations))
    click.echo(str(path))


@_command
def hash_(settings: Settings) -> None:
    """Rewrite schemashift.sum for the folder as it is now."""
    click.echo(str(checksum.write(settings.migrations, read_folder(settings.migrations))))


@_command
@click.option("--to", help="Apply up to this version (default: all).")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (no connection).")
@click.option("--allow-changed", is_flag=True, help="Accept applied files whose content changed, once.")
def up(settings: Settings, to: str | None, sql: bool, allow_changed: bool) -> None:
    """Apply pending migrations."""
    from . import offline, runner
    from .progress import Progress
    from .runner import Project

    project = Project.load(settings)
    if sql:
        click.echo(offline.render_up(project, to), nl=False)
    else:
        runner.up(project, to, allow_changed, Progress())


@_command
@click.option("--to", help="Revert every migration above this version, or `base` for all.")
@click.option("--steps", type=click.IntRange(min=1), help="Revert this many migrations (default: 1).")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (no connection).")
@click.option("--allow-changed", is_flag=True, help="Accept applied files whose content changed, once.")
def down(settings: Settings, to: str | None, steps: int | None, sql: bool, allow_changed: bool) -> None:
    """Revert applied migrations, newest first."""
    from . import offline, runner
    from .progress import Progress
    from .runner import Project

    if to is not None and steps is not None:
        raise SchemashiftError("pass --to or --steps, not both")
    project = Project.load(settings)
    if sql:
        click.echo(offline.render_down(project, to, steps), nl=False)
    else:
        runner.down(project, to, steps, allow_changed, Progress())


@_command
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


COMMANDS = [init, new, hash_, up, down, status, history, stamp, baseline]
