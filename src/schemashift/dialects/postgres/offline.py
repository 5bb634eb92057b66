"""`up --sql` and `down --sql`: the exact statements a run would execute, with no connection.

The script is meant for `psql -v ON_ERROR_STOP=1 -f`: it creates the history table, wraps each
transactional step in BEGIN/COMMIT with the history row written in the migration's last step, and
leaves non-transactional statements outside any block. With no database to ask, it assumes nothing
is applied for `up` and every file up to the newest is applied for `down`, and that the server is
PostgreSQL 12 or later (where `ALTER TYPE ... ADD VALUE` may run in a transaction).
"""

from __future__ import annotations

from ...migrations.errors import MigrationsError
from ...migrations.files import MigrationFile
from ...migrations.history import inline
from ...migrations.runner import Project, down_targets
from .steps import ADD_VALUE_IN_TRANSACTION_SINCE, steps

ASSUMED_SERVER_VERSION = ADD_VALUE_IN_TRANSACTION_SINCE


def render_up(project: Project, to: str | None) -> str:
    target = project.version(to) if to else None
    chosen = [f for f in project.files if target is None or f.version <= target]
    header = [f"-- schemashift up --sql: {len(chosen)} migration(s), history in {project.table}"]
    ddl = [statement.as_string(None) + ";" for statement in project.table.ddl()]
    return "\n".join([*header, *ddl, *(_render(project, f, "up") for f in chosen)]) + "\n"


def render_down(project: Project, to: str | None, count: int | None) -> str:
    versions = down_targets([f.version for f in project.files], project, to, count)
    header = [f"-- schemashift down --sql: {len(versions)} migration(s), history in {project.table}"]
    return "\n".join([*header, *(_render(project, project.by_version[v], "down") for v in versions)]) + "\n"


def _render(project: Project, migration: MigrationFile, direction: str) -> str:
    if migration.is_python:
        raise MigrationsError(f"{migration.path}: a Python migration cannot be printed as SQL")
    plan = steps(migration.section(direction), str(migration.path), ASSUMED_SERVER_VERSION)
    if not plan and direction == "down":
        raise MigrationsError(f"{migration.path}: the down section is empty, nothing reverts it")
    record = inline(project.table.insert(migration.version, migration.name, migration.checksum, direction,
                                         success=True, steps_done=len(plan))).as_string(None) + ";"
    lines = [f"\n-- {migration.name} ({direction})"]
    for index, step in enumerate(plan):
        body = [_terminated(s.sql) for s in step.statements]
        if index == len(plan) - 1:
            body.append(record)
        lines += ["BEGIN;", *body, "COMMIT;"] if step.transactional else body
    if not plan:
        lines.append(record)
    return "\n".join(lines)


def _terminated(statement: str) -> str:
    """The statement with its `;`, on a line of its own when the last line ends in a comment."""
    return statement + ("\n;" if "--" in statement.rsplit("\n", 1)[-1] else ";")
