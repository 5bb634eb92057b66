"""Index builds, drops and rebuilds that block writers, and statements PostgreSQL refuses inside a
transaction block."""

from __future__ import annotations

from collections.abc import Iterator

from ..steps import refuses_transaction
from .context import Context, table_key
from .registry import Hit, Level, Node, check, rule

INDEX = rule(
    "index-without-concurrently", Level.ERROR,
    "CREATE INDEX without CONCURRENTLY blocks writes to the table while the index is built",
    "The build holds a SHARE lock for as long as it reads the whole table. Use CREATE INDEX "
    "CONCURRENTLY (a migration runs it outside its transaction by itself); a table created in the "
    "same file is exempt.",
    ("require-concurrent-index-creation",))
DROP_INDEX = rule(
    "drop-index-without-concurrently", Level.ERROR,
    "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
    "It blocks reads and writes, and waits behind every running query on the table. Use DROP INDEX "
    "CONCURRENTLY.",
    ("require-concurrent-index-deletion",))
REINDEX = rule(
    "reindex-without-concurrently", Level.ERROR,
    "REINDEX without CONCURRENTLY blocks writes to the table (and reads through the index)",
    "Use REINDEX ... CONCURRENTLY, which builds the new index beside the old one.",
    ("require-concurrent-reindex",))
IN_TRANSACTION = rule(
    "concurrently-in-transaction", Level.ERROR,
    "this statement cannot run inside a transaction block",
    "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION "
    "CONCURRENTLY, VACUUM and the like between BEGIN and COMMIT. Run it on its own; a schemashift "
    "migration does that by itself.",
    ("ban-concurrent-index-creation-in-transaction",))


@check("IndexStmt")
def index_without_concurrently(node: Node, ctx: Context) -> Iterator[Hit]:
    if not node.get("concurrent") and not ctx.is_new(table_key(node["relation"])):
        yield Hit(INDEX, node["relation"].get("location"))


@check("DropStmt")
def drop_index_without_concurrently(node: Node, ctx: Context) -> Iterator[Hit]:
    if node["removeType"] == "OBJECT_INDEX" and not node.get("concurrent"):
        yield Hit(DROP_INDEX)


@check("ReindexStmt")
def reindex_without_concurrently(node: Node, ctx: Context) -> Iterator[Hit]:
    concurrent = any(p["DefElem"]["defname"] == "concurrently" for p in node.get("params", ()))
    if not concurrent and node["kind"] != "REINDEX_OBJECT_SYSTEM":  # system catalogs: never concurrently
        yield Hit(REINDEX)


@check("IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "ClusterStmt", "AlterTableStmt",
       "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
       "CreateSubscriptionStmt", "DropSubscriptionStmt")
def refused_in_transaction(node: Node, ctx: Context) -> Iterator[Hit]:
    """Only an explicit BEGIN of a plain file: a migration runs such statements alone by itself."""
    if ctx.explicit_transaction is not None and refuses_transaction(ctx.kind, node, ctx.version * 10000):
        yield Hit(IN_TRANSACTION)
