"""Click wiring of the fleet options that `up`, `status` and `check` share: `--targets FILE` or
`--each-schema PATTERN`, `--jobs N`, `--fail-fast`. Without a target list the command runs as
before, on the one database of `--url`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..config import Settings
from ..errors import SchemashiftError

# Options of a single run that have no meaning for many targets.
SINGLE_ONLY = {"sql": "--sql", "backup": "--backup"}


def fleet_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add the fleet options to a command whose first parameter is `Settings`."""

    @click.option("--targets", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                  help="Run on each database URL in FILE (one a line, # comments, ${ENV} expanded).")
    @click.option("--each-schema", metavar="PATTERN",
                  help="Run on each schema of --url matching PATTERN (LIKE or glob), its history table in it.")
    @click.option("--jobs", type=click.IntRange(min=1), metavar="N", help="Targets run at once (default: 1).")
    @click.option("--fail-fast", is_flag=True, help="After a target fails, start no other (they are skipped).")
    @functools.wraps(func)
    def wrapper(settings: Settings, targets: Path | None, each_schema: str | None, jobs: int | None,
                fail_fast: bool, **options: Any) -> None:
        if targets is None and each_schema is None:
            if jobs is not None or fail_fast:
                raise SchemashiftError("--jobs and --fail-fast need --targets FILE or --each-schema PATTERN")
            return func(settings, **options)
        run(func.__name__, settings, targets, each_schema, jobs or 1, fail_fast, options)
        return None

    return wrapper


def run(command: str, settings: Settings, targets_file: Path | None, each_schema: str | None, jobs: int,
        fail_fast: bool, options: dict[str, Any]) -> None:
    from . import fleet
    from .fleet_display import display_for, summary

    given = [flag for name, flag in SINGLE_ONLY.items() if options.pop(name, None)]
    if given:
        raise SchemashiftError(f"{given[0]} takes one database, not --targets or --each-schema")
    targets = fleet.targets_of(settings, targets_file, each_schema)
    outcomes = fleet.run_command(command, settings, targets, display_for(sys.stdout, len(targets)), jobs,
                                 fail_fast, options)
    summary(outcomes, command, sys.stdout)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        skipped = sum(o.state == fleet.SKIPPED for o in failed)
        raise SchemashiftError(f"{len(failed) - skipped} of {len(outcomes)} target(s) "
                               f"{'failed' if command == 'up' else 'not ok'}"
                               + (f", {skipped} skipped" if skipped else ""))
