"""Split a SQL section into statements (parsed by pglast) and group them into steps.

A step is either one transaction or one statement in autocommit. Without a reason to split, a
migration is one step, so it is all-or-nothing. The reasons, each found from the parse tree:

- statements PostgreSQL refuses inside a transaction block (`CREATE/DROP INDEX CONCURRENTLY`,
  `REINDEX CONCURRENTLY`, `VACUUM`, `CREATE/DROP DATABASE`, `DETACH PARTITION CONCURRENTLY`, ...)
  run alone, in file order, between the transactions before and after them;
- `ALTER TYPE ... ADD VALUE` (alone before PostgreSQL 12) ends its transaction when a later
  statement of the file mentions the new label, because a label cannot be used in the transaction
  that added it ("unsafe use of new value");
- `-- schemashift:no-transaction` makes every statement its own step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pglast import parser

from ...migrations.errors import FolderError
from ...migrations.files import Section

ADD_VALUE_IN_TRANSACTION_SINCE = 120000

# A parse tree as libpg_query's JSON gives it: `{"IndexStmt": {...fields}}`, false fields left out.
# Read as plain dicts, it costs a tenth of pglast's AST objects, which matters over a thousand files.
Node = dict[str, Any]


@dataclass(frozen=True)
class Statement:
    """One statement's text (without `;`) and its 1-based line in the file."""

    sql: str
    line: int


@dataclass(frozen=True)
class Step:
    """Statements run together: in one transaction, or (a single one) in autocommit."""

    statements: tuple[Statement, ...]
    transactional: bool


def parse(section: Section, path: str) -> list[tuple[Statement, str, Node]]:
    """The section's statements with their parse trees' kind and fields; a syntax error names the
    file and line."""
    data = section.text.encode()
    try:
        raw = json.loads(parser.parse_sql_json(section.text)).get("stmts", [])
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 else 0  # a character index
        line = section.first_line + section.text[:offset].count("\n")
        raise FolderError(f"{path}:{line}: {exc.args[0]}") from None
    out = []
    for stmt in raw:
        start = stmt.get("stmt_location", 0)
        end = start + stmt["stmt_len"] if stmt.get("stmt_len") else len(data)
        text = data[start:end].decode().strip()
        line = section.first_line + data[:start].count(b"\n")
        [(kind, node)] = stmt["stmt"].items()
        if kind == "TransactionStmt":
            raise FolderError(f"{path}:{line}: `{text}`: each migration already runs in its own "
                              "transaction (use `-- schemashift:no-transaction` to run without)")
        out.append((Statement(text, line), kind, node))
    return out


def steps(section: Section, path: str, server_version: int) -> list[Step]:
    """Group the section's statements into the steps the runner executes in order."""
    parsed = parse(section, path)
    result: list[Step] = []
    group: list[Statement] = []

    def close_group() -> None:
        if group:
            result.append(Step(tuple(group), transactional=True))
            group.clear()

    for index, (statement, kind, node) in enumerate(parsed):
        if section.no_transaction or refuses_transaction(kind, node, server_version):
            close_group()
            result.append(Step((statement,), transactional=False))
            continue
        group.append(statement)
        if kind == "AlterEnumStmt" and "oldVal" not in node:
            if any(_mentions(later, node["newVal"]) for _, _, later in parsed[index + 1 :]):
                close_group()
    close_group()
    return result


def refuses_transaction(kind: str, node: Node, server_version: int) -> bool:
    """Whether PostgreSQL refuses this statement inside a transaction block."""
    if kind in ("IndexStmt", "DropStmt"):
        return bool(node.get("concurrent"))
    if kind == "ReindexStmt":
        return any(p["DefElem"]["defname"] == "concurrently" for p in node.get("params", ()))
    if kind == "VacuumStmt":
        return bool(node.get("is_vacuumcmd"))
    if kind == "ClusterStmt":
        return "relation" not in node
    if kind == "AlterEnumStmt":
        return "oldVal" not in node and server_version < ADD_VALUE_IN_TRANSACTION_SINCE
    if kind == "AlterTableStmt":
        return any(
            cmd["AlterTableCmd"].get("def", {}).get("PartitionCmd", {}).get("concurrent")
            for cmd in node.get("cmds", ())
        )
    return kind in _NEVER_IN_TRANSACTION


_NEVER_IN_TRANSACTION = frozenset({
    "CreatedbStmt", "DropdbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
    "AlterSystemStmt", "CreateSubscriptionStmt", "DropSubscriptionStmt",
})


def _strings(node: object) -> list[str]:
    """Every string in a parse tree: identifiers, literals, and function bodies as whole strings."""
    if isinstance(node, dict):
        return [s for key, value in node.items()
                for s in ([value] if key == "sval" and isinstance(value, str) else _strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _mentions(node: Node, label: str) -> bool:
    return any(label in text for text in _strings(node))
