"""What each planned PostgreSQL statement does to a live table, read from the statement itself.

The statement is parsed with pglast; the schema model answers what the text cannot (the table of
an index, the table a dropped foreign key references, a column's old type, the partitions a
command recurses to, the default partition an ATTACH must check). A label names tables, views,
materialized views and foreign tables; sequences and indexes only when they are what the
statement is about (the locks PostgreSQL takes on a table's indexes follow its lock on the table).
Objects the statement creates are not named: nobody else can see them before it commits.

`tests/test_lock_labels.py` runs every kind of statement labelled here on PostgreSQL 18 and 15
and compares the label with `pg_locks`, `pg_class.relfilenode` and `pg_stat_user_tables`: that
test, not the documentation, is where each entry here and in `locks_alter` comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast.parser import ParseError

from ...lock_label import LockLabel
from ...model import Index, View
from ...plan import Plan
from . import locks_alter
from .lock_tree import AE, AS, EXCLUSIVE, SHARE, SRE, SUE, Fields, Found, Model, Rel, listed, qualified, range_vars, \
    only_kind, parsed, referenced_table, rel, statements, unwrap
from .render_core import Context

Handler = Callable[[Fields, Found], None]


def label_plan(plan: Plan, ctx: Context) -> Plan:
    """The plan with every statement's `locks` filled in (None where the statement is of a kind
    not known here: the corpus property test keeps that list empty)."""
    model = Model(ctx)
    # Statement(**fields) rather than dataclasses.replace: a third of the cost on a GitLab plan.
    return Plan([type(st)(**{**vars(st), "locks": _label(st.sql, model)}) for st in plan.statements])


def label(sql: str, ctx: Context) -> LockLabel | None:
    """The label of one statement, on the server version of `ctx`."""
    return _label(sql, Model(ctx))


def _label(sql: str, model: Model) -> LockLabel | None:
    try:
        text = parsed(sql)
    except ParseError:  # newer syntax than pglast's grammar: unlabelled, never a failed diff
        return None
    kind = only_kind(text)
    if kind in _NO_TABLE or kind == "CreateStmt" and not any(key in text for key in _CREATE_TABLE_LOCKS):
        return _NOTHING
    found = Found(model)
    for kind, fields in statements(sql, text):
        handler = _HANDLERS.get(kind)
        if handler is None:
            return None
        handler(fields, found)
    return found.label()


_HANDLERS: dict[str, Handler] = {"AlterTableStmt": locks_alter.alter_table}


def _handles(*kinds: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for kind in kinds:
            _HANDLERS[kind] = fn
        return fn

    return register


# Statements that lock no table, view or sequence that exists before them.
_NO_TABLE = frozenset({
    "CreateFunctionStmt", "AlterFunctionStmt", "DefineStmt", "CreateDomainStmt", "CompositeTypeStmt",
    "CreateEnumStmt", "AlterEnumStmt", "CreateRangeStmt", "CreateSchemaStmt", "CreateExtensionStmt",
    "AlterExtensionStmt", "CreateEventTrigStmt", "AlterEventTrigStmt", "AlterDefaultPrivilegesStmt",
    "AlterOwnerStmt", "AlterStatsStmt", "VariableSetStmt", "AlterTSConfigurationStmt", "AlterTSDictionaryStmt"})
_NOTHING = LockLabel((), "instant")
_HANDLERS.update(dict.fromkeys(_NO_TABLE, lambda node, found: None))
# What a CREATE TABLE's tree holds when it locks another table: most hold none of these.
_CREATE_TABLE_LOCKS = ('"inhRelations"', '"partbound"', '"CONSTR_FOREIGN"')


def _reads(node: Any, found: Found) -> None:
    """ACCESS SHARE on every relation a query names (a view's, a policy's): parse analysis takes
    it and keeps it to the end of the transaction."""
    for relation in range_vars(node):
        found.lock(relation, AS)


@_handles("CreateStmt")
def _create_table(node: Fields, found: Found) -> None:
    """PARTITION OF: ACCESS EXCLUSIVE on the parent, and on its default partition, which is scanned
    for rows of the new bound; the parent's foreign keys are cloned. INHERITS: SHARE UPDATE
    EXCLUSIVE on each parent. REFERENCES: SHARE ROW EXCLUSIVE on the referenced table (its
    triggers are added)."""
    bound = node.get("partbound")
    for parent in map(rel, node.get("inhRelations", [])):
        if bound is None:
            found.lock(parent, SUE)
            continue
        found.lock(parent, AE)
        found.lock_inherited_keys(parent)
        default = found.model.default_partition(parent)
        if default and not bound.get("is_default"):
            found.lock(default, AE)
            found.does("scan")
    for element in _constraints(node.get("tableElts", [])):
        if element.get("contype") == "CONSTR_FOREIGN":
            found.lock(rel(element["pktable"]), SRE)


def _constraints(elements: list[Fields]) -> list[Fields]:
    """A CREATE TABLE's table constraints and its columns' constraints."""
    out = []
    for element in elements:
        kind, fields = unwrap(element)
        if kind == "Constraint":
            out.append(fields)
        elif kind == "ColumnDef":
            out += [unwrap(c)[1] for c in fields.get("constraints", [])]
    return out


@_handles("CreateTableAsStmt")
def _create_matview(node: Fields, found: Found) -> None:
    _reads(node["query"], found)
    if not node["into"].get("skipData"):
        found.does("scan")


@_handles("RefreshMatViewStmt")
def _refresh(node: Fields, found: Found) -> None:
    view = rel(node["relation"])
    found.lock(view, EXCLUSIVE if node.get("concurrent") else AE)
    obj = found.model.find(("view", *view))
    if isinstance(obj, View):
        _reads([fields for _, fields in statements(obj.definition)], found)
    found.does("rewrite")


@_handles("ViewStmt")
def _create_view(node: Fields, found: Found) -> None:
    view = rel(node["view"])
    if node.get("replace") and ("view", *view) in found.model.source.objects:
        found.lock(view, AE)
    _reads(node["query"], found)


@_handles("IndexStmt")
def _create_index(node: Fields, found: Found) -> None:
    found.lock_family(rel(node["relation"]), SUE if node.get("concurrent") else SHARE,
                      recurse=bool(node["relation"].get("inh")))
    found.does("scan")


_ON_TABLE = ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE")


@_handles("DropStmt")
def _drop(node: Fields, found: Found) -> None:
    kind = node["removeType"]
    for obj in node.get("objects", []):
        if "List" not in obj:
            continue  # a type, function, ... named another way: no relation
        name = listed(obj)
        if kind in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"):
            _drop_table(qualified(name), found)
        elif kind in ("OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE"):
            found.lock(qualified(name), AE)
        elif kind == "OBJECT_INDEX":
            _drop_index(qualified(name), SUE if node.get("concurrent") else AE, found)
        elif kind in _ON_TABLE:  # a partitioned table's triggers have clones on its partitions
            table = qualified(name[:-1])
            found.lock_family(table, AE, recurse=kind == "OBJECT_TRIGGER" and locks_alter.partitioned(found, table))
        elif kind == "OBJECT_STATISTIC_EXT":
            stats = found.model.find(("statistics", *qualified(name)))
            for table in _statistics_tables(stats):
                found.lock(table, SUE)


def _drop_table(table: Rel, found: Found) -> None:
    """The table, its partitions, and every table its foreign keys reference (their triggers go)."""
    for each in (table, *found.model.descendants(table)):
        found.lock(each, AE)
        for c in found.model.source.constraints_on(*each):
            referenced = referenced_table(c)
            if referenced:
                found.lock(referenced, AE)


def _drop_index(name: Rel, mode: str, found: Found) -> None:
    """The index and its table; a partitioned index also every partition and their indexes
    attached to it."""
    found.lock(name, mode)
    index = found.model.find(("index", *name))
    if isinstance(index, Index):
        table = (index.schema, index.table)
        found.lock_family(table, mode, recurse=locks_alter.partitioned(found, table))
        for key in found.model.source.attached_to(index.key):  # an index, or a constraint's (named after it)
            _drop_index((key[1], key[-1]), mode, found)


def _statistics_tables(stats: Any) -> list[Rel]:
    if stats is None:
        return []
    (_, stmt), = statements(stats.definition)
    return [rel(r) for r in stmt.get("relations", []) if "RangeVar" in r]


@_handles("CreateStatsStmt")
def _create_statistics(node: Fields, found: Found) -> None:
    for r in node.get("relations", []):
        if "RangeVar" in r:
            found.lock(rel(r), SUE)


@_handles("RenameStmt")
def _rename(node: Fields, found: Found) -> None:
    kind, relation = node["renameType"], node.get("relation")
    if relation is None:
        return  # a type, function, schema, ...
    if kind == "OBJECT_INDEX":
        found.lock(rel(relation), SUE)
    elif kind in _ON_TABLE:
        found.lock(rel(relation), AE)
    else:  # a renamed column or constraint is renamed in every child too
        recurse = kind in ("OBJECT_COLUMN", "OBJECT_TABCONSTRAINT") and bool(relation.get("inh"))
        found.lock_family(rel(relation), AE, recurse=recurse)


@_handles("AlterObjectSchemaStmt")
def _set_schema(node: Fields, found: Found) -> None:
    if node.get("relation"):
        found.lock(rel(node["relation"]), AE)


_RELATIONS = ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE", "OBJECT_INDEX",
              "OBJECT_SEQUENCE")


@_handles("CommentStmt")
def _comment(node: Fields, found: Found) -> None:
    """SHARE UPDATE EXCLUSIVE on a commented relation (or a column's); an object on a table
    (constraint, trigger, policy, rule) is found through the table, which is only opened."""
    kind, obj = node["objtype"], node.get("object", {})
    if "List" not in obj:
        return
    name = listed(obj)
    if kind in _RELATIONS:
        found.lock(qualified(name), SUE)
    elif kind == "OBJECT_COLUMN":
        found.lock(qualified(name[:-1]), SUE)
    elif kind in (*_ON_TABLE, "OBJECT_TABCONSTRAINT"):
        found.lock(qualified(name[:-1]), AS)


@_handles("GrantStmt")
def _grant(node: Fields, found: Found) -> None:
    """GRANT and REVOKE on a relation: ACCESS SHARE on PostgreSQL 18, none on 15 (observed on
    those two; 16 and 17 are given 18's, the stronger)."""
    on_relations = node.get("objtype") in _RELATIONS and node.get("targtype") == "ACL_TARGET_OBJECT"
    if found.model.version >= 160000 and on_relations:
        for r in node.get("objects", []):
            found.lock(rel(r), AS)


@_handles("AlterSeqStmt")
def _alter_sequence(node: Fields, found: Found) -> None:
    found.lock(rel(node["sequence"]), SRE)
    _owned_by(node, found)


@_handles("CreateSeqStmt")
def _owned_by(node: Fields, found: Found) -> None:
    """OWNED BY: ACCESS SHARE on the owning table."""
    for option in node.get("options", []):
        option = option["DefElem"]
        if option["defname"] == "owned_by" and len(listed(option["arg"])) > 1:
            found.lock(qualified(listed(option["arg"])[:-1]), AS)


@_handles("CreateTrigStmt")
def _create_trigger(node: Fields, found: Found) -> None:
    """SHARE ROW EXCLUSIVE on the table, and on each partition, which gets a clone."""
    table = rel(node["relation"])
    found.lock_family(table, SRE, recurse=locks_alter.partitioned(found, table))
    if node.get("constrrel"):
        found.lock(rel(node["constrrel"]), AS)


@_handles("CreatePolicyStmt", "AlterPolicyStmt")
def _policy(node: Fields, found: Found) -> None:
    found.lock(rel(node["table"]), AE)
    _reads([node.get("qual"), node.get("with_check")], found)


@_handles("RuleStmt")
def _rule(node: Fields, found: Found) -> None:
    found.lock(rel(node["relation"]), AE)
    _reads([node.get("whereClause"), node.get("actions")], found)


@_handles("CreatePublicationStmt", "AlterPublicationStmt")
def _publication(node: Fields, found: Found) -> None:
    for obj in node.get("pubobjects", []):
        table = obj["PublicationObjSpec"].get("pubtable")
        if table:
            found.lock(rel(table["relation"]), SUE)


@_handles("AlterDomainStmt")
def _alter_domain(node: Fields, found: Found) -> None:
    """A new constraint (or NOT NULL, or VALIDATE) checks every column of the domain: SHARE on
    their tables, which are scanned."""
    subtype = node["subtype"]
    if subtype not in ("C", "O", "V") or subtype == "C" and unwrap(node["def"])[1].get("skip_validation"):
        return
    schema, name = qualified(node["typeName"])
    by_type = found.model.tables_by_column_type
    for table in by_type.get(f"{schema}.{name}", set()) | by_type.get(name, set()):
        found.lock(table, SHARE)
        found.does("scan")
