"""The rest of what squawk checks: partitions detached in place, enum labels appended without a
position, identifiers PostgreSQL truncates, and UPDATEs that assign a column twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pglast import parser

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
    """Read from the tokens: the parse tree holds the names already truncated."""
    start, end = ctx.span
    for token in parser.scan(ctx.data[start:end].decode()):
        if token.name != "IDENT":
            continue
        word = ctx.data[start + token.start:start + token.end + 1]
        size = len(word[1:-1].replace(b'""', b'"') if word.startswith(b'"') else word)
        if size >= NAMEDATALEN:
            yield Hit(TOO_LONG, start + token.start, f"identifier {word[:24].decode(errors='replace')}... is "
                                                     f"{size} bytes: PostgreSQL truncates it to {NAMEDATALEN - 1} bytes")


@check("UpdateStmt")
def duplicate_assignment(node: Node, ctx: Context) -> Iterator[Hit]:
    targets = Counter(t["ResTarget"]["name"] for t in node.get("targetList", ()) if "name" in t["ResTarget"])
    for target in node.get("targetList", ()):
        if targets[target["ResTarget"].get("name")] > 1:
            yield Hit(DUPLICATE_ASSIGNMENT, target["ResTarget"].get("location"))
