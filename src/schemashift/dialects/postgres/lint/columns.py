"""Column changes that rewrite or fail on a table with rows: ADD COLUMN with a volatile default, a
stored generated expression, an identity or serial; ADD COLUMN NOT NULL with no default; type
changes that are not binary-coercible; and the statements that copy a whole table (VACUUM FULL,
CLUSTER, SET LOGGED, SET ACCESS METHOD, SET TABLESPACE, SET EXPRESSION).

Since PostgreSQL 11 a non-volatile default (a constant, now(), current_date) is stored once in
the catalog and ADD COLUMN is instant; every supported server (15-18) has that. Since 18 a
generated column is virtual unless STORED, and adding one is instant too.
"""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, column_constraints, commands, strings, table_key, type_name, walk
from .registry import Hit, Level, Node, check, rule
from .types import SERIALS

REWRITE_ADD = rule(
    "add-column-rewrites", Level.ERROR,
    "ADD COLUMN rewrites the whole table under an ACCESS EXCLUSIVE lock",
    "A volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval()), an identity or "
    "serial column and a STORED generated column are computed for every row. Add the column "
    "without a default (or with a constant), set the default for new rows, and backfill in batches.",
    ("adding-field-with-default",))
REQUIRED = rule(
    "add-required-column", Level.ERROR,
    "ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows",
    "Existing rows would have NULL there. Give it a non-volatile DEFAULT (instant), or add it "
    "nullable, backfill, then set NOT NULL through a validated CHECK.",
    ("adding-required-field",))
REWRITE_TYPE = rule(
    "type-change-rewrites", Level.ERROR,
    "ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
    "Reads and writes wait for the whole copy, and clients may not expect the new type. Add a new "
    "column, backfill it in batches, switch readers and writers over, then drop the old one.",
    ("changing-column-type",))
MAYBE_REWRITE_TYPE = rule(
    "type-change-may-rewrite", Level.WARNING,
    "ALTER COLUMN ... TYPE rewrites the table unless the change is binary-coercible",
    "Widening varchar(n) or varbit(n), dropping their limit, varchar to text, a higher numeric "
    "precision at the same scale and cidr to inet are instant; anything else copies the table "
    "under an ACCESS EXCLUSIVE lock (the old type is not in this file, so it cannot be told here).",
    ("changing-column-type",))
REWRITE_TABLE = rule(
    "table-rewrite", Level.ERROR,
    "this statement copies the whole table under an ACCESS EXCLUSIVE lock",
    "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED, SET ACCESS METHOD, SET TABLESPACE and SET EXPRESSION "
    "block reads and writes for the whole copy. Use pg_repack or pg_squeeze to compact a live "
    "table, or an expand/contract migration for a generated column.",
    ("prefer-repack", "ban-alter-generated-expression"))

# Functions that are not volatile, so a default calling them (with constant arguments) is instant.
NON_VOLATILE = frozenset({
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "lower", "upper",
    "concat", "jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array",
    "to_jsonb", "to_json", "make_interval", "make_date", "make_timestamptz", "array_fill",
})
VOLATILE = frozenset({
    "random", "gen_random_uuid", "uuidv4", "uuidv7", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
    "clock_timestamp", "timeofday", "nextval", "txid_current", "pg_current_xact_id", "setseed",
})
# Binary-coercible from some other type: whether a change to one of these rewrites depends on the old type.
MAYBE_COERCIBLE = frozenset({"text", "varchar", "varbit", "numeric", "inet", "citext"})
REWRITING_SUBTYPES = {
    "AT_SetLogged": "SET LOGGED", "AT_SetUnLogged": "SET UNLOGGED",
    "AT_SetAccessMethod": "SET ACCESS METHOD", "AT_SetTableSpace": "SET TABLESPACE",
    "AT_SetExpression": "SET EXPRESSION",
}


@check("AlterTableStmt")
def column_changes(node: Node, ctx: Context) -> Iterator[Hit]:
    if ctx.is_new(table_key(node["relation"])):
        return
    for cmd in commands(node):
        subtype = cmd["subtype"]
        if subtype == "AT_AddColumn":
            yield from _added_column(cmd["def"]["ColumnDef"])
        elif subtype == "AT_AlterColumnType":
            yield from _type_change(cmd["def"]["ColumnDef"])
        elif subtype in REWRITING_SUBTYPES:
            yield Hit(REWRITE_TABLE, message=f"{REWRITING_SUBTYPES[subtype]} copies the whole table "
                                             "under an ACCESS EXCLUSIVE lock")


def _added_column(column: Node) -> Iterator[Hit]:
    constraints = {c["contype"]: c for c in column_constraints(column)}
    why = _rewrite_reason(column, constraints)
    if why is not None:
        yield Hit(REWRITE_ADD, column.get("location"), f"ADD COLUMN {column['colname']} rewrites the whole "
                                                        f"table under an ACCESS EXCLUSIVE lock ({why})")
    elif ("CONSTR_NOTNULL" in constraints or "CONSTR_PRIMARY" in constraints) and not (
            {"CONSTR_DEFAULT", "CONSTR_GENERATED", "CONSTR_IDENTITY"} & constraints.keys()):
        yield Hit(REQUIRED, column.get("location"))


def _rewrite_reason(column: Node, constraints: dict[str, Node]) -> str | None:
    if type_name(column["typeName"]) in SERIALS:
        return f"{type_name(column['typeName'])} fills every row from a sequence"
    if "CONSTR_IDENTITY" in constraints:
        return "an identity fills every row from a sequence"
    generated = constraints.get("CONSTR_GENERATED")
    if generated is not None and generated.get("generated_kind") == "s":  # virtual: see versions.py
        return "a stored generated column is computed for every row"
    default = constraints.get("CONSTR_DEFAULT")
    if default is not None:
        called = [strings(f["funcname"])[-1].lower() for kind, f in walk(default["raw_expr"]) if kind == "FuncCall"]
        known = [name for name in called if name in VOLATILE]
        if known:
            return f"the default calls {known[0]}(), which is volatile: evaluated for every row"
        unknown = [name for name in called if name not in NON_VOLATILE]
        if unknown:
            return f"the default calls {unknown[0]}(), evaluated for every row unless it is not volatile"
    return None


def _type_change(column: Node) -> Iterator[Hit]:
    if "raw_default" in column or type_name(column["typeName"]) not in MAYBE_COERCIBLE:
        yield Hit(REWRITE_TYPE, column.get("location"))
    else:
        yield Hit(MAYBE_REWRITE_TYPE, column.get("location"))


@check("VacuumStmt")
def vacuum_full(node: Node, ctx: Context) -> Iterator[Hit]:
    if any(o["DefElem"]["defname"] == "full" for o in node.get("options", ())):
        yield Hit(REWRITE_TABLE, message="VACUUM FULL copies the whole table under an ACCESS EXCLUSIVE lock")


@check("ClusterStmt")
def cluster(node: Node, ctx: Context) -> Iterator[Hit]:
    if "relation" not in node or not ctx.is_new(table_key(node["relation"])):
        yield Hit(REWRITE_TABLE, message="CLUSTER copies the whole table under an ACCESS EXCLUSIVE lock")
