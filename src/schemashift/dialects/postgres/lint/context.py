"""What the linter knows at each statement of a text: the server major version, whether the text is
a schemashift migration (one transaction, split around statements PostgreSQL refuses in one), the
tables the text itself created (empty and invisible to other sessions, so locks and scans on them
do not matter), the session settings seen so far and the open transaction's NOT VALID constraints.

Checks only read it; `observe` moves it past each statement, after that statement's checks ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..steps import refuses_transaction
from .registry import Node

TableKey = tuple[str | None, str]  # (schema as written or None, name)


def walk(node: Any) -> Iterator[tuple[str, Node]]:
    """Every `{"Kind": {...}}` node of a parse tree, outermost first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and key[:1].isupper():
                yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def strings(names: list[Node]) -> list[str]:
    """A qualified name as parsed (`[{"String": {"sval": ...}}, ...]`) as its parts."""
    return [part["String"]["sval"] for part in names if "String" in part]


def table_key(range_var: Node) -> TableKey:
    return range_var.get("schemaname"), range_var["relname"]


def type_name(type_node: Node) -> str:
    """A column type's own name (`int4`, `varchar`, `serial`), schema and array bounds left out."""
    return strings(type_node["names"])[-1].lower()


def commands(node: Node) -> list[Node]:
    """The sub-commands of an ALTER TABLE."""
    return [cmd["AlterTableCmd"] for cmd in node.get("cmds", ())]


def column_constraints(column: Node) -> list[Node]:
    return [c["Constraint"] for c in column.get("constraints", ())]


@dataclass
class Context:
    version: int  # server major version
    migration: bool = False  # a schemashift migration's up section
    no_transaction: bool = False  # a migration marked `-- schemashift:no-transaction`
    new_tables: dict[str, set[str | None]] = field(default_factory=dict)  # name -> schemas as written
    settings: set[str] = field(default_factory=set)  # lock_timeout / statement_timeout set so far
    explicit_transaction: int | None = None  # where an open BEGIN of a plain file is (a byte offset)
    not_valid: set[tuple[TableKey, str]] = field(default_factory=set)  # added NOT VALID in this transaction
    not_null_checks: dict[tuple[TableKey, str], str] = field(default_factory=dict)  # CHECK (col IS NOT NULL)
    validated_not_null: set[tuple[TableKey, str]] = field(default_factory=set)  # (table, column)
    data: bytes = b""  # the whole text, as UTF-8
    kind: str = ""  # the current statement's parse-tree kind
    span: tuple[int, int] = (0, 0)  # the current statement's byte range in `data`
    refused: bool = False  # the current statement runs outside the migration's transaction

    def is_new(self, key: TableKey) -> bool:
        """Whether the text created this table earlier (unqualified names match any schema)."""
        schema, name = key
        schemas = self.new_tables.get(name, set())
        return bool(schemas) and (schema is None or None in schemas or schema in schemas)

    @property
    def in_transaction(self) -> bool:
        """Whether the current statement runs inside a transaction block."""
        if self.migration:
            return not (self.no_transaction or self.refused)
        return self.explicit_transaction is not None

    def before(self, kind: str, node: Node, span: tuple[int, int]) -> None:
        """Move onto a statement; a migration ends its transaction before one that cannot run in one."""
        self.kind, self.span = kind, span
        self.refused = self.migration and refuses_transaction(kind, node, self.version * 10000)
        if self.refused or (self.migration and self.no_transaction):
            self.not_valid.clear()

    def observe(self, kind: str, node: Node, location: int) -> None:
        """Move past a statement whose checks have run."""
        if kind == "CreateStmt":
            schema, name = table_key(node["relation"])
            self.new_tables.setdefault(name, set()).add(schema)
        elif kind == "VariableSetStmt" and node.get("name") in ("lock_timeout", "statement_timeout"):
            if node["kind"] == "VAR_SET_VALUE":
                self.settings.add(node["name"])
            else:
                self.settings.discard(node["name"])
        elif kind == "TransactionStmt":
            self._transaction(node["kind"], location)
        elif kind == "AlterTableStmt":
            self._constraints(table_key(node["relation"]), commands(node))
        if not self.in_transaction:
            self.not_valid.clear()

    def _transaction(self, what: str, location: int) -> None:
        if what in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            self.explicit_transaction = location
        elif what in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_COMMIT_PREPARED",
                      "TRANS_STMT_PREPARE"):
            self.explicit_transaction = None
            self.not_valid.clear()

    def _constraints(self, table: TableKey, cmds: list[Node]) -> None:
        for cmd in cmds:
            constraint = cmd.get("def", {}).get("Constraint")
            if cmd["subtype"] == "AT_AddConstraint" and constraint and constraint.get("conname"):
                name = constraint["conname"]
                if constraint.get("skip_validation"):
                    self.not_valid.add((table, name))
                column = _not_null_check_column(constraint)
                if column is not None:
                    self.not_null_checks[(table, name)] = column
                    if not constraint.get("skip_validation"):
                        self.validated_not_null.add((table, column))
            elif cmd["subtype"] == "AT_ValidateConstraint" and (table, cmd["name"]) in self.not_null_checks:
                self.validated_not_null.add((table, self.not_null_checks[(table, cmd["name"])]))


def _not_null_check_column(constraint: Node) -> str | None:
    """The column of a `CHECK (col IS NOT NULL)`, which lets SET NOT NULL skip its scan once valid."""
    test = constraint.get("raw_expr", {}).get("NullTest") if constraint["contype"] == "CONSTR_CHECK" else None
    if test is None or test.get("nulltesttype") != "IS_NOT_NULL":
        return None
    fields = strings(test.get("arg", {}).get("ColumnRef", {}).get("fields", []))
    return fields[-1] if len(fields) == 1 else None
