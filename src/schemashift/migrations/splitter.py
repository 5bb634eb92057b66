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

from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.visitors import Visitor

from .errors import FolderError
from .files import Section

ADD_VALUE_IN_TRANSACTION_SINCE = 120000


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


def parse(section: Section, path: str) -> list[tuple[Statement, ast.Node]]:
    """The section's statements with their parse trees; a syntax error names the file and line."""
    data = section.text.encode()
    try:
        raw = pglast.parse_sql(section.text)
    except pglast.parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 else 0  # a character index
        line = section.first_line + section.text[:offset].count("\n")
        raise FolderError(f"{path}:{line}: {exc.args[0]}") from None
    out = []
    for stmt in raw:
        start = stmt.stmt_location or 0
        end = start + stmt.stmt_len if stmt.stmt_len else len(data)
        text = data[start:end].decode().strip()
        line = section.first_line + data[:start].count(b"\n")
        if isinstance(stmt.stmt, ast.TransactionStmt):
            raise FolderError(f"{path}:{line}: `{text}`: each migration already runs in its own "
                              "transaction (use `-- schemashift:no-transaction` to run without)")
        out.append((Statement(text, line), stmt.stmt))
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

    for index, (statement, node) in enumerate(parsed):
        if section.no_transaction or refuses_transaction(node, server_version):
            close_group()
            result.append(Step((statement,), transactional=False))
            continue
        group.append(statement)
        if isinstance(node, ast.AlterEnumStmt) and node.oldVal is None:
            if any(_mentions(later, node.newVal) for _, later in parsed[index + 1 :]):
                close_group()
    close_group()
    return result


def refuses_transaction(node: ast.Node, server_version: int) -> bool:
    """Whether PostgreSQL refuses this statement inside a transaction block."""
    if isinstance(node, ast.IndexStmt | ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(p.defname == "concurrently" for p in node.params or ())
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    if isinstance(node, ast.ClusterStmt):
        return node.relation is None
    if isinstance(node, ast.AlterEnumStmt):
        return node.oldVal is None and server_version < ADD_VALUE_IN_TRANSACTION_SINCE
    if isinstance(node, ast.AlterTableStmt):
        return any(
            isinstance(cmd.def_, ast.PartitionCmd) and cmd.def_.concurrent for cmd in node.cmds or ()
        )
    return isinstance(node, _NEVER_IN_TRANSACTION)


_NEVER_IN_TRANSACTION = (
    ast.CreatedbStmt, ast.DropdbStmt, ast.CreateTableSpaceStmt, ast.DropTableSpaceStmt,
    ast.AlterSystemStmt, ast.CreateSubscriptionStmt, ast.DropSubscriptionStmt,
)


class _Strings(Visitor):
    """Collects every string in a parse tree: literals, and function bodies as whole strings."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_String(self, ancestors: object, node: ast.String) -> None:
        self.found.append(node.sval)


def _mentions(node: ast.Node, label: str) -> bool:
    strings = _Strings()
    strings(node)
    return any(label in text for text in strings.found)
