"""Changes that lose data or break the clients still running against the old schema: drops,
renames, moves to another schema, and constraints or defaults clients rely on being removed.

Dropping or renaming what the same file created breaks no client and loses nothing: exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, commands, strings, table_key
from .registry import Hit, Level, Node, check, rule

DROP_TABLE = rule(
    "drop-table", Level.ERROR,
    "DROP TABLE loses the table's data and breaks clients that still use it",
    "Stop every reader and writer first (deploy the code that no longer uses it), keep a backup, "
    "and drop it in a later migration; rename it aside first if you want a way back.",
    ("ban-drop-table",))
DROP_COLUMN = rule(
    "drop-column", Level.ERROR,
    "DROP COLUMN loses the column's data and breaks clients that still read or write it",
    "Deploy code that no longer uses the column (and ORMs that no longer select it) first, then drop "
    "it in a later migration.",
    ("ban-drop-column",))
DROP_DATABASE = rule(
    "drop-database", Level.ERROR,
    "DROP DATABASE loses everything in it",
    "There is no migration that needs this; do it by hand, after a backup.",
    ("ban-drop-database",))
TRUNCATE_CASCADE = rule(
    "truncate-cascade", Level.ERROR,
    "TRUNCATE ... CASCADE also empties every table whose foreign keys point at it, recursively",
    "Name every table to empty in the TRUNCATE instead.",
    ("ban-truncate-cascade",))
DROP_OBJECT = rule(
    "drop-object", Level.WARNING,
    "dropping this object breaks clients and objects that still use it",
    "Make sure nothing uses it any more (views, functions, the application), then drop it; with "
    "CASCADE, read what else goes with it.",
    ("ban-drop-view", "ban-drop-function", "ban-drop-type", "ban-drop-schema", "ban-drop-sequence",
     "ban-drop-domain", "ban-drop-extension", "ban-drop-trigger", "ban-drop-policy"))
DROP_CONSTRAINT = rule(
    "drop-constraint", Level.WARNING,
    "dropping a constraint removes a guarantee clients may rely on",
    "Check that no code depends on it (upserts on a unique key, cascades of a foreign key).",
    ("ban-drop-constraint",))
DROP_NOT_NULL = rule(
    "drop-not-null", Level.WARNING,
    "DROP NOT NULL lets NULLs in that clients may not expect",
    "Deploy code that handles NULL in this column before the migration.",
    ("ban-drop-not-null",))
DROP_DEFAULT = rule(
    "drop-default", Level.WARNING,
    "DROP DEFAULT makes inserts that leave the column out store NULL, or fail",
    "Deploy code that always gives the column a value first.",
    ("ban-drop-default",))
DROP_EXPRESSION = rule(
    "drop-generated-expression", Level.WARNING,
    "DROP EXPRESSION turns a generated column into a plain one that no longer follows its inputs",
    "Make sure writers set the column themselves from now on.",
    ("ban-drop-generated-expression",))
ALTER_IDENTITY = rule(
    "alter-identity", Level.WARNING,
    "changing a column's identity changes how inserts get their value",
    "Inserts that leave the column out (or set it) may start to fail; deploy the matching code first.",
    ("ban-alter-identity",))
RENAME = rule(
    "rename", Level.WARNING,
    "renaming breaks clients that still use the old name",
    "Expand and contract: add the new name beside the old (a new column kept in step, or a view "
    "under the old name), move the clients over, then remove the old one.",
    ("renaming-column", "renaming-table", "renaming-object"))
SET_SCHEMA = rule(
    "set-schema", Level.WARNING,
    "moving an object to another schema breaks clients that find it by its old qualified name",
    "Move the clients first (search_path or qualified names), or leave a view behind.",
    ("ban-set-schema",))

DROPPED_KINDS = {
    "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "materialized view", "OBJECT_FUNCTION": "function",
    "OBJECT_PROCEDURE": "procedure", "OBJECT_ROUTINE": "routine", "OBJECT_TYPE": "type",
    "OBJECT_SCHEMA": "schema", "OBJECT_SEQUENCE": "sequence", "OBJECT_DOMAIN": "domain",
    "OBJECT_EXTENSION": "extension", "OBJECT_TRIGGER": "trigger", "OBJECT_POLICY": "policy",
    "OBJECT_AGGREGATE": "aggregate",
}
RENAMED_KINDS = {"OBJECT_TABCONSTRAINT": "constraint", "OBJECT_DOMCONSTRAINT": "domain constraint",
                 "OBJECT_MATVIEW": "materialized view", "OBJECT_FOREIGN_TABLE": "foreign table"}
COLUMN_COMMANDS = {
    "AT_DropColumn": DROP_COLUMN, "AT_DropConstraint": DROP_CONSTRAINT, "AT_DropNotNull": DROP_NOT_NULL,
    "AT_DropExpression": DROP_EXPRESSION, "AT_DropIdentity": ALTER_IDENTITY, "AT_SetIdentity": ALTER_IDENTITY,
    "AT_AddIdentity": ALTER_IDENTITY,
}


@check("DropStmt")
def drops(node: Node, ctx: Context) -> Iterator[Hit]:
    kind = node["removeType"]
    if kind == "OBJECT_TABLE":
        for name in node["objects"]:
            parts = strings(name["List"]["items"])
            if not ctx.is_new((parts[-2] if len(parts) > 1 else None, parts[-1])):
                yield Hit(DROP_TABLE, message=f"DROP TABLE {'.'.join(parts)} loses the table's data and "
                                               "breaks clients that still use it")
    elif kind in DROPPED_KINDS:
        yield Hit(DROP_OBJECT, message=f"dropping the {DROPPED_KINDS[kind]} breaks clients and objects "
                                       "that still use it")


@check("DropdbStmt")
def drop_database(node: Node, ctx: Context) -> Iterator[Hit]:
    yield Hit(DROP_DATABASE)


@check("TruncateStmt")
def truncate_cascade(node: Node, ctx: Context) -> Iterator[Hit]:
    if node.get("behavior") == "DROP_CASCADE":
        yield Hit(TRUNCATE_CASCADE)


@check("AlterTableStmt")
def column_removals(node: Node, ctx: Context) -> Iterator[Hit]:
    if ctx.is_new(table_key(node["relation"])):
        return
    for cmd in commands(node):
        if cmd["subtype"] in COLUMN_COMMANDS:
            yield Hit(COLUMN_COMMANDS[cmd["subtype"]])
        elif cmd["subtype"] == "AT_ColumnDefault" and "def" not in cmd:
            yield Hit(DROP_DEFAULT)


@check("AlterDomainStmt")
def domain_removals(node: Node, ctx: Context) -> Iterator[Hit]:
    if node["subtype"] == "T" and "def" not in node:
        yield Hit(DROP_DEFAULT, message="DROP DEFAULT on a domain makes inserts that leave its columns out "
                                        "store NULL, or fail")
    elif node["subtype"] == "N":
        yield Hit(DROP_NOT_NULL, message="DROP NOT NULL on a domain lets NULLs into every column of it")
    elif node["subtype"] == "X":
        yield Hit(DROP_CONSTRAINT)


@check("AlterEnumStmt")
def enum_value_renamed(node: Node, ctx: Context) -> Iterator[Hit]:
    if "oldVal" in node:
        yield Hit(RENAME, message="renaming an enum label breaks clients that still write the old one")


@check("RenameStmt")
def renames(node: Node, ctx: Context) -> Iterator[Hit]:
    relation = node.get("relation")
    if relation is None or not ctx.is_new(table_key(relation)):
        what = RENAMED_KINDS.get(node["renameType"], node["renameType"].removeprefix("OBJECT_").lower())
        yield Hit(RENAME, message=f"renaming the {what} breaks clients that still use the old name")


@check("AlterObjectSchemaStmt")
def set_schema(node: Node, ctx: Context) -> Iterator[Hit]:
    yield Hit(SET_SCHEMA)
