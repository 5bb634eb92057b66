"""Constraints that scan or index a live table under a strong lock: foreign keys and CHECKs without
NOT VALID, PRIMARY KEY / UNIQUE / EXCLUDE built in place, SET NOT NULL without a validated CHECK,
a validation in the transaction that added the constraint, and domain constraints."""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, column_constraints, commands, table_key
from .registry import Hit, Level, Node, check, rule
from .versions import NOT_NULL_NOT_VALID_SINCE

NOT_VALID = rule(
    "constraint-without-not-valid", Level.ERROR,
    "adding a FOREIGN KEY or CHECK constraint validates every row while holding a lock that blocks writes",
    "A foreign key also locks the referenced table (SHARE ROW EXCLUSIVE). Add it NOT VALID (only new "
    "rows are checked, instantly), then VALIDATE CONSTRAINT in a later transaction, which scans "
    "under a lock that lets writes through.",
    ("constraint-missing-not-valid", "adding-foreign-key-constraint"))
WITHOUT_INDEX = rule(
    "constraint-without-index", Level.ERROR,
    "adding a PRIMARY KEY, UNIQUE or EXCLUDE constraint builds its index under an ACCESS EXCLUSIVE lock",
    "Reads and writes wait for the whole build. Build a unique index with CREATE UNIQUE INDEX "
    "CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY / UNIQUE USING INDEX, which is instant "
    "(EXCLUDE has no such form: build it while the table is small or offline).",
    ("disallowed-unique-constraint", "adding-serial-primary-key-field", "constraint-missing-not-valid"))
VALIDATE_SAME_TRANSACTION = rule(
    "validate-in-same-transaction", Level.ERROR,
    "VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID",
    "The ADD's ACCESS EXCLUSIVE lock is held until commit, so the validation's scan blocks reads "
    "and writes after all. Validate in a later migration (or after a COMMIT).",
    ("constraint-missing-not-valid",))
SET_NOT_NULL = rule(
    "set-not-null-scans", Level.ERROR,
    "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
    "First ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT c in another "
    "transaction, then SET NOT NULL (it uses the valid CHECK and skips the scan) and drop c.",
    ("adding-not-nullable-field",))
DOMAIN = rule(
    "domain-constraint", Level.WARNING,
    "a domain with a constraint checks every column of that type when the constraint changes",
    "ALTER DOMAIN ... ADD CONSTRAINT scans every table using the domain and no NOT VALID/VALIDATE "
    "split keeps it short for long; prefer CHECK constraints on the columns.",
    ("ban-create-domain-with-constraint", "ban-alter-domain-with-add-constraint"))

VALIDATED_KINDS = ("CONSTR_FOREIGN", "CONSTR_CHECK")
INDEXED_KINDS = ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION")


@check("AlterTableStmt")
def added_constraints(node: Node, ctx: Context) -> Iterator[Hit]:
    table = table_key(node["relation"])
    if ctx.is_new(table):
        return
    for cmd in commands(node):
        constraint = cmd.get("def", {}).get("Constraint")
        if cmd["subtype"] == "AT_AddConstraint" and constraint:
            yield from _added(constraint)
        elif cmd["subtype"] == "AT_AddColumn":
            for inline in column_constraints(cmd["def"]["ColumnDef"]):
                if inline["contype"] in INDEXED_KINDS:
                    yield Hit(WITHOUT_INDEX, inline.get("location"))
        elif cmd["subtype"] == "AT_ValidateConstraint" and (table, cmd["name"]) in ctx.not_valid \
                and ctx.in_transaction:
            yield Hit(VALIDATE_SAME_TRANSACTION)
        elif cmd["subtype"] == "AT_SetNotNull" and (table, cmd["name"]) not in ctx.validated_not_null:
            yield Hit(SET_NOT_NULL, message=_set_not_null_message(ctx.version))


def _added(constraint: Node) -> Iterator[Hit]:
    kind = constraint["contype"]
    if kind in VALIDATED_KINDS and not constraint.get("skip_validation"):
        yield Hit(NOT_VALID, constraint.get("location"))
    elif kind in INDEXED_KINDS and not constraint.get("indexname"):
        yield Hit(WITHOUT_INDEX, constraint.get("location"))
    elif kind == "CONSTR_NOTNULL" and not constraint.get("skip_validation"):
        yield Hit(SET_NOT_NULL, constraint.get("location"))


def _set_not_null_message(version: int) -> str | None:
    if version >= NOT_NULL_NOT_VALID_SINCE:
        return (f"SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock (on PostgreSQL "
                f"{version}: ADD CONSTRAINT ... NOT NULL col NOT VALID, then VALIDATE CONSTRAINT)")
    return None


@check("CreateDomainStmt")
def domain_created_with_constraint(node: Node, ctx: Context) -> Iterator[Hit]:
    for constraint in node.get("constraints", ()):
        if constraint["Constraint"]["contype"] in ("CONSTR_CHECK", "CONSTR_NOTNULL"):
            yield Hit(DOMAIN, constraint["Constraint"].get("location"))


@check("AlterDomainStmt")
def domain_constraint_added(node: Node, ctx: Context) -> Iterator[Hit]:
    if node["subtype"] in ("C", "O"):  # ADD CONSTRAINT, SET NOT NULL
        yield Hit(DOMAIN)
