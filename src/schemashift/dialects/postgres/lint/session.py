"""The session around the statements: timeouts set before the first statement that queues for a
lock on a live table, and transactions opened and closed where they should be.

A statement waiting for its lock blocks every later query on the table behind it, so without
`lock_timeout` one long-running read turns a migration into an outage. These rules are reported
once per file, at the first statement that needs the setting.
"""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, strings, table_key, walk
from .registry import Hit, Level, Node, at_end, check, rule

LOCK_TIMEOUT = rule(
    "missing-lock-timeout", Level.WARNING,
    "no SET lock_timeout before the first statement that locks a live table",
    "While it waits for its lock, every later query on the table queues behind it. SET "
    "lock_timeout = '2s' (or so) first and retry the migration when it times out.",
    ("require-lock-timeout", "require-timeout-settings"), once=True)
STATEMENT_TIMEOUT = rule(
    "missing-statement-timeout", Level.WARNING,
    "no SET statement_timeout before the first statement that locks a live table",
    "A statement that holds its lock for longer than planned keeps blocking others; a "
    "statement_timeout bounds how long.",
    ("require-statement-timeout", "require-timeout-settings"), once=True)
NESTING = rule(
    "transaction-nesting", Level.ERROR,
    "BEGIN/COMMIT where a transaction is already open (or none is)",
    "A schemashift migration already runs in its own transaction: leave BEGIN and COMMIT out (use "
    "`-- schemashift:no-transaction` to run without one). In a plain file, a nested BEGIN is "
    "ignored with a warning and the inner COMMIT ends the outer transaction.",
    ("transaction-nesting",))
UNCOMMITTED = rule(
    "uncommitted-transaction", Level.ERROR,
    "a transaction is opened and never committed",
    "Everything after BEGIN is rolled back when the session ends; add COMMIT.",
    ("ban-uncommitted-transaction",))

# Statements that queue for a lock that conflicts with reads or writes of the relation they name.
RELATION_LOCKING = frozenset({
    "AlterTableStmt", "IndexStmt", "RenameStmt", "ClusterStmt", "CreateTrigStmt", "AlterObjectSchemaStmt",
    "CreatePolicyStmt", "AlterPolicyStmt", "RefreshMatViewStmt", "RuleStmt", "ReindexStmt",
})
LOCKING = RELATION_LOCKING | {"DropStmt", "TruncateStmt", "LockStmt", "AlterDomainStmt", "VacuumStmt", "CreateStmt"}


def _locks_live_table(node: Node, ctx: Context) -> bool:
    kind = ctx.kind
    if kind not in LOCKING:
        return False
    if kind in ("CreateStmt", "AlterTableStmt") and any(not ctx.is_new(table_key(t)) for t in _referenced(node)):
        return True  # a foreign key locks the table it references; a partition or child its parent
    if kind == "CreateStmt":
        return False
    if kind == "VacuumStmt":
        return any(o["DefElem"]["defname"] == "full" for o in node.get("options", ()))
    if kind == "DropStmt":
        return node["removeType"] in ("OBJECT_TABLE", "OBJECT_INDEX", "OBJECT_VIEW", "OBJECT_MATVIEW",
                                      "OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE") and not all(
            _new_name(strings(o["List"]["items"]), ctx) for o in node["objects"] if "List" in o)
    relation = node.get("relation") or node.get("table")
    return not (isinstance(relation, dict) and "relname" in relation and ctx.is_new(table_key(relation)))


def _referenced(node: Node) -> Iterator[Node]:
    """The other tables a CREATE or ALTER TABLE locks: referenced by its foreign keys, its parents."""
    for kind, inner in walk(node):
        if kind == "Constraint" and inner["contype"] == "CONSTR_FOREIGN":
            yield inner["pktable"]
    for parent in node.get("inhRelations", ()):
        yield parent["RangeVar"]


def _new_name(parts: list[str], ctx: Context) -> bool:
    return ctx.is_new((parts[-2] if len(parts) > 1 else None, parts[-1]))


@check(*LOCKING)
def timeouts(node: Node, ctx: Context) -> Iterator[Hit]:
    if not _locks_live_table(node, ctx):
        return
    for name, setting in ((LOCK_TIMEOUT, "lock_timeout"), (STATEMENT_TIMEOUT, "statement_timeout")):
        if setting not in ctx.settings:
            yield Hit(name)


@check("TransactionStmt")
def nesting(node: Node, ctx: Context) -> Iterator[Hit]:
    opens = node["kind"] in ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
    closes = node["kind"] in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK")
    if ctx.migration and (opens or closes):
        yield Hit(NESTING, message="a migration already runs in its own transaction: no BEGIN/COMMIT here")
    elif opens and ctx.explicit_transaction is not None:
        yield Hit(NESTING, message="BEGIN inside an open transaction")
    elif closes and ctx.explicit_transaction is None:
        yield Hit(NESTING, message="COMMIT/ROLLBACK with no transaction open")


@at_end
def uncommitted(ctx: Context) -> Iterator[Hit]:
    if not ctx.migration and ctx.explicit_transaction is not None:
        yield Hit(UNCOMMITTED, ctx.explicit_transaction)
