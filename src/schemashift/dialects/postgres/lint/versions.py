"""Syntax the target server does not have yet: pglast parses with PostgreSQL 18's grammar, so a
statement that parses can still fail on 15-17. What each version added, as used by the rules:

- 17: ALTER COLUMN ... SET EXPRESSION;
- 18: virtual generated columns (the default when STORED is not written), NOT NULL constraints
  added NOT VALID (`ADD CONSTRAINT c NOT NULL col NOT VALID`).
"""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, column_constraints, commands
from .registry import Hit, Level, Node, check, rule

SET_EXPRESSION_SINCE = 17
VIRTUAL_GENERATED_SINCE = 18
NOT_NULL_NOT_VALID_SINCE = 18

NEWER = rule(
    "needs-newer-server", Level.ERROR,
    "this syntax needs a newer PostgreSQL than the target server",
    "Write the form the server has (GENERATED ... STORED, a CHECK (col IS NOT NULL) NOT VALID, drop "
    "and re-add the generated column), or lint for the version you deploy to (--pg-version).",
)


def _needs(what: str, since: int, ctx: Context, location: int | None = None) -> Iterator[Hit]:
    if ctx.version < since:
        yield Hit(NEWER, location, f"{what} needs PostgreSQL {since}; the target is {ctx.version}")


@check("CreateStmt")
def new_table_columns(node: Node, ctx: Context) -> Iterator[Hit]:
    for element in node.get("tableElts", ()):
        if "ColumnDef" in element:
            yield from _virtual(element["ColumnDef"], ctx)


@check("AlterTableStmt")
def altered_table(node: Node, ctx: Context) -> Iterator[Hit]:
    for cmd in commands(node):
        constraint = cmd.get("def", {}).get("Constraint")
        if cmd["subtype"] == "AT_AddColumn":
            yield from _virtual(cmd["def"]["ColumnDef"], ctx)
        elif cmd["subtype"] == "AT_SetExpression":
            yield from _needs("ALTER COLUMN ... SET EXPRESSION", SET_EXPRESSION_SINCE, ctx)
        elif constraint and constraint["contype"] == "CONSTR_NOTNULL" and constraint.get("skip_validation"):
            yield from _needs("a NOT NULL constraint added NOT VALID", NOT_NULL_NOT_VALID_SINCE, ctx,
                              constraint.get("location"))


def _virtual(column: Node, ctx: Context) -> Iterator[Hit]:
    for constraint in column_constraints(column):
        if constraint["contype"] == "CONSTR_GENERATED" and constraint.get("generated_kind") == "v":
            yield from _needs(f"generated column {column['colname']} without STORED (virtual)",
                              VIRTUAL_GENERATED_SINCE, ctx, constraint.get("location"))
