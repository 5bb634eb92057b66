"""The rest of what squawk checks: partitions detached in place, enum labels appended without a
position, identifiers PostgreSQL truncates, and UPDATEs that assign a column twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from .context import Context, commands
from .registry import Hit, Level, Node, check, rule

NAMEDATALEN = 64  # identifiers longer than NAMEDATALEN - 1 bytes are truncated

DETACH = rule(
    "detach-partition-without-concurrently", Level.ERROR,
    "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table",
    "Use DETACH PARTITION ... CONCURRENTLY (outside a transaction; a migration runs it alone by itself).",
    ("require-concurrent-partition-detach",))
ENUM_ORDER = rule(
    "enum-value-appended", Level.WARNING,
    "ADD VALUE without BEFORE or AFTER appends the label at the end of the enum's sort order",
    "Say where it goes (BEFORE 'x' / AFTER 'y') if the enum's order means something (ORDER BY, <).",
    ("require-enum-value-ordering",))
TOO_LONG = rule(
    "identifier-too-long", Level.ERROR,
    "identifier longer than 63 bytes: PostgreSQL truncates it silently",
    "Two long names can then collide, and later statements naming it in full still work, which "
    "hides the mismatch until a tool compares names. Shorten it.",
    ("identifier-too-long",))
DUPLICATE_ASSIGNMENT = rule(
    "duplicate-column-assignment", Level.ERROR,
    "UPDATE assigns the same column twice",
    "PostgreSQL refuses it (multiple assignments to same column); keep one.",
    ("ban-duplicate-column-assignments",))

# Fields of a parse tree that name a new object or column.
NAME_FIELDS = ("relname", "colname", "conname", "idxname", "trigname", "policy_name", "newname",
               "schemaname", "extname")


@check("AlterTableStmt")
def detach(node: Node, ctx: Context) -> Iterator[Hit]:
    for cmd in commands(node):
        if cmd["subtype"] == "AT_DetachPartition" and not cmd["def"]["PartitionCmd"].get("concurrent"):
            yield Hit(DETACH)


@check("AlterEnumStmt")
def enum_order(node: Node, ctx: Context) -> Iterator[Hit]:
    if "newVal" in node and "oldVal" not in node and "newValNeighbor" not in node:
        yield Hit(ENUM_ORDER)


@check("CreateStmt", "AlterTableStmt", "IndexStmt", "RenameStmt", "CreateSeqStmt", "ViewStmt",
       "CreateFunctionStmt", "CreateTrigStmt", "CreatePolicyStmt", "CreateSchemaStmt", "CreateDomainStmt",
       "CompositeTypeStmt", "CreateEnumStmt", "CreateTableAsStmt", "CreateExtensionStmt")
def long_identifiers(node: Node, ctx: Context) -> Iterator[Hit]:
    seen: set[str] = set()
    for inner in _dicts(node):
        for name in NAME_FIELDS:
            value = inner.get(name)
            if isinstance(value, str) and len(value.encode()) >= NAMEDATALEN and value not in seen:
                seen.add(value)
                yield Hit(TOO_LONG, inner.get("location"),
                          f"identifier {value[:24]}... is {len(value.encode())} bytes: PostgreSQL "
                          f"truncates it to {NAMEDATALEN - 1} silently")


def _dicts(node: Any) -> Iterator[Node]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dicts(item)


@check("UpdateStmt")
def duplicate_assignment(node: Node, ctx: Context) -> Iterator[Hit]:
    targets = Counter(t["ResTarget"]["name"] for t in node.get("targetList", ()) if "name" in t["ResTarget"])
    for target in node.get("targetList", ()):
        if targets[target["ResTarget"].get("name")] > 1:
            yield Hit(DUPLICATE_ASSIGNMENT, target["ResTarget"].get("location"))
