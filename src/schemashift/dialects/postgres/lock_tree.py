"""The parse tree and the schema model as the lock labeller reads them.

Statements are parsed to pglast's JSON form (`parse_sql_json`), about twenty times faster than
its Python AST on a GitLab-sized plan. In that form a node is `{"TypeName": {fields}}`, except
where a field has one fixed node type (`relation`, `pktable`, `typeName`), which holds the fields
alone; false, zero and empty fields are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from pglast.parser import parse_sql_json

from ...lock_label import EFFECTS, MODES, LockLabel, RelationLock
from ...model import Constraint, Function, Table
from .render_core import Context

AE, EXCLUSIVE, SRE, SHARE, SUE, RS, AS = ("ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE",
                                          "SHARE UPDATE EXCLUSIVE", "ROW SHARE", "ACCESS SHARE")
Rel = tuple[str, str]
Fields = dict[str, Any]


def parsed(sql: str) -> str:
    """The parse tree of `sql` as pglast's JSON text."""
    return parse_sql_json(sql)


def statements(sql: str, text: str | None = None) -> list[tuple[str, Fields]]:
    """Each statement of `sql` (already parsed to `text`, if given) as (node type, fields)."""
    return [unwrap(raw["stmt"]) for raw in json.loads(text or parse_sql_json(sql))["stmts"]]


_STMT = '{"stmt":{"'


def only_kind(text: str) -> str | None:
    """The node type of the one statement `text` holds (None when it holds several), read without
    decoding the tree: most statements of a large plan need no more than that. A `{"stmt":` inside
    a string constant is escaped in JSON text, so the count is exact."""
    if text.count('{"stmt":') != 1:
        return None
    start = text.index(_STMT) + len(_STMT)
    return text[start:text.index('"', start)]


def unwrap(node: Fields) -> tuple[str, Fields]:
    ((kind, fields),) = node.items()
    return kind, fields


def rel(range_var: Fields) -> Rel:
    """A RangeVar's (schema, name); the renderer qualifies names, so a bare one is in public."""
    fields = range_var.get("RangeVar", range_var)
    return fields.get("schemaname", "public"), fields["relname"]


def names(items: Iterable[Fields]) -> tuple[str, ...]:
    return tuple(item["String"]["sval"] for item in items)


def qualified(items: Iterable[Fields]) -> Rel:
    parts = names(items)
    return (parts[-2] if len(parts) > 1 else "public"), parts[-1]


def listed(node: Fields) -> list[Fields]:
    """The items of a `List` node."""
    return node["List"].get("items", [])


def walk(node: Any) -> Iterator[Fields]:
    """Every dict below `node`: wrapped nodes, their fields, and unwrapped typed fields."""
    if isinstance(node, list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, dict | list):
                yield from walk(value)


def range_vars(node: Any) -> Iterator[Rel]:
    """The relations a query or expression names, apart from its own CTEs'."""
    ctes = {d["ctename"] for d in walk(node) if "ctename" in d}
    for d in walk(node):
        if "relname" in d and not ("schemaname" not in d and d["relname"] in ctes):
            yield rel(d)


def foreign_key(c: Constraint) -> tuple[Rel, tuple[str, ...], tuple[str, ...]] | None:
    """A foreign key's referenced table, its own columns and the referenced ones, read from its
    printed definition; None for another kind of constraint."""
    if c.type != "f":
        return None
    (_, stmt), = statements(f"ALTER TABLE x ADD {c.definition}")
    fk = unwrap(stmt["cmds"][0]["AlterTableCmd"]["def"])[1]
    return rel(fk["pktable"]), names(fk.get("fk_attrs", [])), names(fk.get("pk_attrs", []))


def referenced_table(c: Constraint) -> Rel | None:
    """The table a foreign key references."""
    found = foreign_key(c)
    return found[0] if found else None


class Model:
    """What the labeller asks the two schemas (before the plan, after it), looked up once per plan."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.source, self.target = ctx.source, ctx.target
        self.version = ctx.server_version

    def find(self, key: tuple[str, ...]) -> Any:
        return self.source.objects.get(key) or self.target.objects.get(key)

    def descendants(self, parent: Rel) -> Iterator[Rel]:
        """Partitions and inheritance children, at every depth, before or after the plan."""
        seen, todo = {parent}, [parent]
        while todo:
            here = todo.pop()
            for schema in (self.source, self.target):
                for child in schema.children_of(*here):
                    if (child.schema, child.name) not in seen:
                        seen.add((child.schema, child.name))
                        todo.append((child.schema, child.name))
                        yield child.schema, child.name

    def default_partition(self, parent: Rel) -> Rel | None:
        for schema in (self.source, self.target):
            for child in schema.children_of(*parent):
                if child.parent == parent and child.partition_bound == "DEFAULT":
                    return child.schema, child.name
        return None

    def column(self, table: Rel, name: str, side: str) -> Any:
        found = getattr(self, side).objects.get(("table", *table))
        return found.column(name) if isinstance(found, Table) else None

    @cached_property
    def foreign_keys(self) -> list[tuple[Rel, tuple[str, ...], Rel, tuple[str, ...]]]:
        """(table, its columns, referenced table, referenced columns) of each foreign key before the plan."""
        out = []
        for obj in self.source.objects.values():
            if isinstance(obj, Constraint) and obj.type == "f" and not obj.on_domain:
                fk = foreign_key(obj)
                if fk:
                    out.append(((obj.schema, obj.table), fk[1], fk[0], fk[2]))
        return out

    @cached_property
    def functions(self) -> dict[Rel, list[Function]]:
        out: dict[Rel, list[Function]] = {}
        for obj in self.target.objects.values():
            if isinstance(obj, Function):
                out.setdefault((obj.schema, obj.name), []).append(obj)
        return out

    @cached_property
    def tables_by_column_type(self) -> dict[str, set[Rel]]:
        out: dict[str, set[Rel]] = {}
        for obj in self.target.objects.values():
            if isinstance(obj, Table):
                for c in obj.columns:
                    out.setdefault(c.type.replace('"', ""), set()).add((obj.schema, obj.name))
        return out


class Found:
    """Locks and effect gathered while walking one statement: strongest mode per relation."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.modes: dict[Rel, str] = {}
        self.effect = "instant"

    def lock(self, relation: Rel, mode: str) -> None:
        old = self.modes.get(relation)
        if old is None or MODES.index(mode) > MODES.index(old):
            self.modes[relation] = mode

    def lock_family(self, relation: Rel, mode: str, recurse: bool = True) -> None:
        """The relation and, when `recurse`, its partitions and children, which PostgreSQL locks too."""
        self.lock(relation, mode)
        if recurse:
            for child in self.model.descendants(relation):
                self.lock(child, mode)

    def lock_inherited_keys(self, parent: Rel) -> None:
        """A new partition gets a clone of each of its parent's foreign keys: SHARE ROW EXCLUSIVE
        on their referenced tables."""
        for own, _, referenced, _ in self.model.foreign_keys:
            if own == parent:
                self.lock(referenced, SRE)

    def does(self, effect: str) -> None:
        if EFFECTS.index(effect) > EFFECTS.index(self.effect):
            self.effect = effect

    def label(self) -> LockLabel:
        return LockLabel(tuple(sorted(RelationLock(s, n, m) for (s, n), m in self.modes.items())), self.effect)
