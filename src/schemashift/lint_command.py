"""`schemashift lint FILE... | migrations:DIR`: the CLI face of the linter for hand-written SQL.

This module reads the inputs (plain .sql files, or a migrations folder whose SQL migrations are
linted on their up sections, at their lines in the file), hands each text to the dialect's linter,
and prints one line per finding, `file:line:col: level rule: message`, or `--format json`. Exit 1
when any finding is at error level, else 0; a file that is missing, not UTF-8 or not SQL is one
line on stderr and exit 1. `up` prints the same lines for the migrations it is about to apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import EXIT_ERROR, SchemashiftError

if TYPE_CHECKING:
    from .config import Settings
    from .dialects.postgres.lint import Finding
    from .migrations.files import MigrationFile

MIGRATIONS_PREFIX = "migrations:"
LINTED_ENGINES = ("postgresql",)  # the dialects with a linter (dialects/postgres/lint)


@dataclass(frozen=True)
class Located:
    """A finding and the file it is in."""

    path: str
    finding: Finding

    @property
    def is_error(self) -> bool:
        return self.finding.rule.level.value == "error"

    def line(self) -> str:
        f = self.finding
        return f"{self.path}:{f.line}:{f.column}: {f.rule.level.value} {f.rule.name}: {f.message}"

    def as_dict(self) -> dict[str, object]:
        f = self.finding
        return {"file": self.path, "line": f.line, "column": f.column, "level": f.rule.level.value,
                "rule": f.rule.name, "message": f.message, "advice": f.rule.advice}


def lint_inputs(inputs: Iterable[str], version: int) -> list[Located]:
    """Every finding of the named files and migrations folders, in the order they were named."""
    from .migrations.files import read_folder

    out: list[Located] = []
    for name in inputs:
        if name.startswith(MIGRATIONS_PREFIX):
            out += lint_migrations(read_folder(Path(name.removeprefix(MIGRATIONS_PREFIX))), version)
        else:
            out += _lint_file(Path(name), version)
    return out


def _lint_file(path: Path, version: int) -> list[Located]:
    from .dialects.postgres.lint import lint_text

    if path.is_dir():
        raise SchemashiftError(f"{path}: is a folder (name its .sql files, or migrations:{path})")
    try:
        text = path.read_bytes().decode()
    except FileNotFoundError:
        raise SchemashiftError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SchemashiftError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise SchemashiftError(f"{path}: {exc.strerror}") from None
    return [Located(str(path), f) for f in lint_text(text, version, path=str(path))]


def lint_migrations(files: Iterable[MigrationFile], version: int) -> list[Located]:
    """The findings of SQL migrations' up sections (Python migrations are not SQL: skipped). A
    migration runs in one transaction (unless marked no-transaction), which the rules know."""
    from .dialects.postgres.lint import file_ignores, lint_text

    out: list[Located] = []
    for migration in files:
        if migration.is_python:
            continue
        up = migration.section("up")
        findings = lint_text(up.text, version, path=str(migration.path), first_line=up.first_line,
                             migration=True, no_transaction=up.no_transaction,
                             also_ignore=file_ignores(migration.content.decode()))
        out += [Located(str(migration.path), f) for f in findings]
    return out


def to_json(found: list[Located], version: int) -> str:
    errors = sum(f.is_error for f in found)
    return json.dumps({"pg_version": version, "errors": errors, "warnings": len(found) - errors,
                       "findings": [f.as_dict() for f in found]}, indent=2)


def summary(found: list[Located]) -> str:
    errors = sum(f.is_error for f in found)
    return f"{errors} error(s), {len(found) - errors} warning(s)"


@click.command("lint")
@click.argument("inputs", nargs=-1, metavar="FILE... | migrations:DIR")
@click.option("--pg-version", type=click.IntRange(15, 18), metavar="15-18",
              help="Server major version to judge for (default: the --dev-url/--pg-bin server's, else embedded).")
@click.option("--dev-url", metavar="URL", help="Server whose version to judge for [env: SCHEMASHIFT_DEV_URL].")
@click.option("--pg-bin", metavar="DIR", help="PostgreSQL binaries whose version to judge for [env: SCHEMASHIFT_PG_BIN].")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rules", "list_rules", is_flag=True, help="List the rules and exit.")
@click.option("--traceback", is_flag=True, expose_value=False, help="Show the full Python traceback of an error.")
def lint(inputs: tuple[str, ...], pg_version: int | None, dev_url: str | None, pg_bin: str | None,
         output_format: str, list_rules: bool) -> int:
    """Lint hand-written PostgreSQL SQL for what it does to a live database: locks that block
    reads or writes, scans and rewrites of whole tables, drops and renames that break clients.

    Prints `file:line:col: level rule: message` per finding; exit 1 when any is an error. Silence a
    rule on one statement with `-- schemashift:ignore RULE[, RULE]` in or above it (or trailing
    it), for a whole file with `-- schemashift:ignore-file RULE[, RULE]`.
    """
    from .dialects.postgres.lint import RULES
    from .dialects.postgres.lint.target import target_major

    if list_rules:
        for rule in RULES.values():
            click.echo(f"{rule.name}\t{rule.level.value}\t{rule.message}")
        return 0
    if not inputs:
        raise click.UsageError("name at least one FILE or migrations:DIR")
    version = target_major(pg_version, dev_url, pg_bin)
    found = lint_inputs(inputs, version)
    if output_format == "json":
        click.echo(to_json(found, version))
    else:
        for item in found:
            click.echo(item.line())
        click.echo(f"{summary(found)} (PostgreSQL {version})", err=True)
    return EXIT_ERROR if any(f.is_error for f in found) else 0


class LintRefused(SchemashiftError):
    """`up --strict` found an error-level finding in a pending migration: nothing was applied."""


def vet_pending(settings: Settings, strict: bool,
                show: Callable[[str], None]) -> Callable[[Any, list[MigrationFile]], None] | None:
    """What `up` does with the migrations it is about to apply: `show` their error-level findings
    (for the connected server's version; warnings are `schemashift lint`'s to print, they would
    bury the run's own lines) and, when `strict`, refuse them all if there is one. Only PostgreSQL
    migrations are linted; `--strict` on another engine is refused before anything runs."""
    from .migrations.engine import dialect_of

    engine = dialect_of(settings).name
    if engine not in LINTED_ENGINES:
        if strict:
            raise SchemashiftError(f"up --strict: the linter reads PostgreSQL migrations, not {engine}")
        return None

    def vet(conn: Any, pending: list[MigrationFile]) -> None:
        errors = [f for f in lint_migrations(pending, conn.info.server_version // 10000) if f.is_error]
        for item in errors:
            show(item.line())
        if strict and errors:
            raise LintRefused(f"{len(errors)} error-level lint finding(s) in pending migrations; nothing "
                              "applied (fix them, silence them with `-- schemashift:ignore RULE`, or run "
                              "without --strict)")

    return vet
