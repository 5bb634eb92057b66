"""`schemashift rehearse`: click wiring and output for dialects.postgres.rehearse.

`rehearse URL TARGET` rehearses the plan from the database at URL to TARGET (anything `diff`
takes, `--online` for its lock-light form); `rehearse URL` the pending migrations of the folder.
Both run on a copy of URL's database, never on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .errors import SchemashiftError
from .online_flags import online_options


@click.command("rehearse")
@click.argument("url")
@click.argument("target", required=False)
@click.option("--migrations", type=click.Path(path_type=Path),
              help="Without TARGET: rehearse this folder's pending migrations (default: migrations).")
@click.option("--history-table", help="History table as schema.name (default: public.schemashift_history).")
@click.option("--unsafe", is_flag=True, help="Allow destructive statements in the plan.")
@online_options
@click.option("--probes", type=click.IntRange(min=0), default=8, show_default=True,
              help="Probe writers: one per table, the biggest first.")
@click.option("--dev-url", metavar="URL", help="Server for scratch databases [env: SCHEMASHIFT_DEV_URL].")
@click.option("--pg-bin", metavar="DIR", help="PostgreSQL binaries for the throwaway server [env: SCHEMASHIFT_PG_BIN].")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
def rehearse(url: str, target: str | None, output_format: str, probes: int, unsafe: bool,
             **flags: Any) -> int:
    """Run a plan, or the pending migrations, on a copy of the database at URL and report per
    statement its duration, the locks it held and for how long, and the writers it blocked."""
    import psycopg

    from .config import load_settings
    from .dialects.postgres import rehearse as engine
    from .urls import normalize_url

    settings = load_settings({k: flags[k] for k in ("migrations", "history_table", "dev_url", "pg_bin",
                                                    "online", "online_lock_timeout")} | {"url": url})
    try:
        with engine.copy_of(normalize_url(url)) as copy:
            units = _plan_units(copy, target, settings, unsafe) if target else _pending_units(copy, settings)
            reports = engine.rehearse(copy, units, probes)
    except psycopg.Error as exc:
        raise SchemashiftError(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__) from None
    if output_format == "json":
        click.echo(json.dumps({"statements": [r.as_json() for r in reports]}, indent=2))
    else:
        click.echo(table_text(reports))
    return 0


def _plan_units(copy: str, target: str, settings: Any, unsafe: bool) -> list[Any]:
    from . import api
    from .online_flags import from_settings
    from .dialects.postgres.rehearse import plan_units

    plan = api.diff(copy, target, ignore_tables=(settings.history_table,), dev_url=settings.dev_url,
                    pg_bin=settings.pg_bin, online=from_settings(settings))
    if not unsafe:
        plan.check_safe()
    return plan_units(plan)


def _pending_units(copy: str, settings: Any) -> list[Any]:
    """The pending migrations' steps, as the runner groups them (the copy's history says what is pending)."""
    from dataclasses import replace

    from .dialects.postgres.rehearse import Unit
    from .dialects.postgres.run_session import connect
    from .dialects.postgres.steps import steps
    from .migrations.runner import Project, compare

    project = Project.load(replace(settings, url=copy))
    with connect(copy) as conn:
        pending = compare(project, project.state(conn)).pending
        version = conn.info.server_version
    units = []
    for migration in pending:
        if migration.is_python:
            raise SchemashiftError(f"{migration.path}: a Python migration cannot be rehearsed "
                                   "statement by statement")
        for step in steps(migration.section("up"), str(migration.path), version):
            units.append(Unit(tuple((f"{migration.name}:{s.line}", s.sql) for s in step.statements), step.transactional))
    return units


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("--")]
    line = " ".join(lines[0].split()) if lines else text
    return line if len(line) <= 70 else line[:67] + "..."


def table_text(reports: list[Any]) -> str:
    rows = [("#", "ms", "statement", "locks held (mode relation ms)", "writers blocked")]
    for r in reports:
        locks = ", ".join(f"{k.mode} {k.relation} {k.seconds * 1000:.0f}" for k in r.locks) or "-"
        blocked = (f"{len(r.blocked)}, longest {max(b.seconds for b in r.blocked) * 1000:.0f} ms"
                   if r.blocked else "-")
        rows.append((r.label, f"{r.seconds * 1000:.0f}", _first_line(r.sql), locks, blocked))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in rows]
    worst = max((r for r in reports if r.blocked), key=lambda r: max(b.seconds for b in r.blocked), default=None)
    if worst is not None:
        lock = max(worst.locks, key=lambda k: k.seconds, default=None)
        held = f" holding {lock.mode} on {lock.relation} for {lock.seconds * 1000:.0f} ms" if lock else ""
        lines.append(f"blocks writers longest: statement {worst.label} `{_first_line(worst.sql)}`{held}, "
                     f"{len(worst.blocked)} writer(s) waited up to {max(b.seconds for b in worst.blocked) * 1000:.0f} ms")
    else:
        lines.append("no writer was blocked")
    return "\n".join(lines)
