"""What each planned PostgreSQL statement does to a live table, read from the statement itself.

The statement is parsed with pglast; the schema model answers what the text cannot (the table of
an index, the table a dropped foreign key references, a column's old type, the partitions a
command recurses to, the default partition an ATTACH must check). A label names tables, views,
materialized views and foreign tables; sequences and indexes only when they are what the
statement is about (the locks PostgreSQL takes on a table's indexes follow its lock on the table).
Objects the statement creates are not named: nobody else can see them before it commits.

`tests/test_lock_labels.py` runs every kind of statement labelled here on PostgreSQL 18 and 15
and compares the label with `pg_locks`, `pg_class.relfilenode` and `pg_stat_user_tables`: that
test, not the documentation, is where each entry below comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import pglast
from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ConstrType, GrantTargetType, ObjectType

from ...lock_label import EFFECTS, MODES, LockLabel, RelationLock
from ...model import Constraint, Domain, Function, Index, Table, View
from ...plan import Plan, Statement
from .render_core import Context

AE, SRE, SHARE, SUE, RS, AS = "ACCESS EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE", "SHARE UPDATE EXCLUSIVE", \
    "ROW SHARE", "ACCESS SHARE"
Rel = tuple[str, str]


def label_plan(plan: Plan, ctx: Context) -> Plan:
    """The plan with every statement's `locks` filled in (None where the statement is of a kind
    not known here: the corpus property test keeps that list empty)."""
    return Plan([replace(st, locks=label(st.sql, ctx)) for st in plan.statements])


def label(sql: str, ctx: Context) -> LockLabel | None:
    """The label of one statement, on the server version of `ctx`."""
    found = _Found(ctx)
    for raw in pglast.parse_sql(sql):
        handler = _HANDLERS.get(type(raw.stmt))
        if handler is None:
            return None
        handler(raw.stmt, found)
    return found.label()


class _Found:
    """Locks and effect gathered while walking one statement: strongest mode per relation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.modes: dict[Rel, str] = {}
        self.effect = "instant"

    def lock(self, rel: Rel, mode: str) -> None:
        old = self.modes.get(rel)
        if old is None or MODES.index(mode) > MODES.index(old):
            self.modes[rel] = mode

    def does(self, effect: str) -> None:
        if EFFECTS.index(effect) > EFFECTS.index(self.effect):
            self.effect = effect

    def label(self) -> LockLabel:
        return LockLabel(tuple(sorted(RelationLock(s, n, m) for (s, n), m in self.modes.items())), self.effect)

    # What the schema model knows, before the plan (source) and after it (target).
    def find(self, key: tuple[str, ...]) -> Any:
        return self.ctx.source.objects.get(key) or self.ctx.target.objects.get(key)

    def descendants(self, rel: Rel) -> Iterator[Rel]:
        """Partitions and inheritance children, at every depth, before or after the plan."""
        seen = {rel}
        todo = [rel]
        while todo:
            here = todo.pop()
            for schema in (self.ctx.source, self.ctx.target):
                for child in schema.children_of(*here):
                    if (child.schema, child.name) not in seen:
                        seen.add((child.schema, child.name))
                        todo.append((child.schema, child.name))
                        yield child.schema, child.name

    def default_partition(self, parent: Rel) -> Rel | None:
        for schema in (self.ctx.source, self.ctx.target):
            for child in schema.children_of(*parent):
                if child.parent == parent and child.partition_bound == "DEFAULT":
                    return child.schema, child.name
        return None

    def column(self, rel: Rel, name: str, side: str) -> Any:
        table = getattr(self.ctx, side).objects.get(("table", *rel))
        return table.column(name) if isinstance(table, Table) else None


_HANDLERS: dict[type, Callable[[Any, _Found], None]] = {}


def _handles(*node_types: type) -> Callable[[Callable[[Any, _Found], None]], Callable[[Any, _Found], None]]:
    def register(fn: Callable[[Any, _Found], None]) -> Callable[[Any, _Found], None]:
        for t in node_types:
            _HANDLERS[t] = fn
        return fn

    return register


def _rel(rv: ast.RangeVar) -> Rel:
    return rv.schemaname or "public", rv.relname


def _names(names: Iterable[Any]) -> tuple[str, ...]:
    return tuple(n.sval for n in names)


def _qualified(names: Iterable[Any]) -> Rel:
    parts = _names(names)
    return (parts[-2] if len(parts) > 1 else "public"), parts[-1]


# Statements that lock no table, view or sequence that exists before them.
_handles(ast.CreateFunctionStmt, ast.AlterFunctionStmt, ast.DefineStmt, ast.CreateDomainStmt, ast.CompositeTypeStmt,
         ast.CreateEnumStmt, ast.AlterEnumStmt, ast.CreateRangeStmt, ast.CreateSchemaStmt, ast.CreateExtensionStmt,
         ast.AlterExtensionStmt, ast.CreateEventTrigStmt, ast.AlterEventTrigStmt, ast.AlterDefaultPrivilegesStmt,
         ast.CreateSeqStmt, ast.AlterOwnerStmt, ast.AlterStatsStmt)(lambda node, found: None)


def _reads(node: Any, found: _Found) -> None:
    """ACCESS SHARE on every relation a query names (a view's, a policy's): parse analysis takes
    it, and keeps it to the end of the transaction. Names of the query's own CTEs are not relations."""
    ctes: set[str] = set()
    for sub in _walk(node):
        if isinstance(sub, ast.CommonTableExpr):
            ctes.add(sub.ctename)
    for sub in _walk(node):
        if isinstance(sub, ast.RangeVar) and not (sub.schemaname is None and sub.relname in ctes):
            found.lock(_rel(sub), AS)


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from _walk(getattr(node, name))


@_handles(ast.CreateStmt)
def _create_table(node: ast.CreateStmt, found: _Found) -> None:
    parents = [_rel(p) for p in node.inhRelations or ()]
    for parent in parents:
        if node.partbound is not None:  # PARTITION OF: the parent, and the default partition it checks
            found.lock(parent, AE)
            default = found.default_partition(parent)
            if default and not node.partbound.is_default:
                found.lock(default, AE)
                found.does("scan")
        else:
            found.lock(parent, SUE)
    for element in _walk(node.tableElts):
        if isinstance(element, ast.Constraint) and element.contype == ConstrType.CONSTR_FOREIGN:
            found.lock(_rel(element.pktable), SRE)


@_handles(ast.CreateTableAsStmt)
def _create_matview(node: ast.CreateTableAsStmt, found: _Found) -> None:
    _reads(node.query, found)
    if not node.into.skipData:
        found.does("scan")


@_handles(ast.RefreshMatViewStmt)
def _refresh(node: ast.RefreshMatViewStmt, found: _Found) -> None:
    rel = _rel(node.relation)
    found.lock(rel, "EXCLUSIVE" if node.concurrent else AE)
    view = found.find(("view", *rel))
    if isinstance(view, View):
        _reads(pglast.parse_sql(view.definition), found)
    found.does("rewrite")


@_handles(ast.ViewStmt)
def _create_view(node: ast.ViewStmt, found: _Found) -> None:
    rel = _rel(node.view)
    if node.replace and ("view", *rel) in found.ctx.source.objects:
        found.lock(rel, AE)
    _reads(node.query, found)


@_handles(ast.IndexStmt)
def _create_index(node: ast.IndexStmt, found: _Found) -> None:
    rel = _rel(node.relation)
    mode = SUE if node.concurrent else SHARE
    found.lock(rel, mode)
    if node.relation.inh:
        for child in found.descendants(rel):
            found.lock(child, mode)
    found.does("scan")


@_handles(ast.DropStmt)
def _drop(node: ast.DropStmt, found: _Found) -> None:
    kind = node.removeType
    for names in node.objects:
        if kind in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_FOREIGN_TABLE):
            _drop_table(_qualified(names), found)
        elif kind in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW, ObjectType.OBJECT_SEQUENCE):
            found.lock(_qualified(names), AE)
        elif kind == ObjectType.OBJECT_INDEX:
            rel = _qualified(names)
            index = found.find(("index", *rel))
            mode = SUE if node.concurrent else AE
            found.lock(rel, mode)
            if isinstance(index, Index):
                found.lock((index.schema, index.table), mode)
        elif kind in (ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY, ObjectType.OBJECT_RULE):
            found.lock(_qualified(names[:-1]), AE)
        elif kind == ObjectType.OBJECT_STATISTIC_EXT:
            stats = found.find(("statistics", *_qualified(names)))
            for rel in _statistics_tables(stats):
                found.lock(rel, SUE)


def _drop_table(rel: Rel, found: _Found) -> None:
    """The table, its partitions, and every table its foreign keys reference (their triggers go)."""
    for table in (rel, *found.descendants(rel)):
        found.lock(table, AE)
        for c in found.ctx.source.constraints_on(*table):
            referenced = _referenced(c)
            if referenced:
                found.lock(referenced, AE)


def _referenced(c: Constraint) -> Rel | None:
    """The table a foreign key references, read from its printed definition."""
    if c.type != "f":
        return None
    stmt = pglast.parse_sql(f"ALTER TABLE x ADD {c.definition}")[0].stmt
    return _rel(stmt.cmds[0].def_.pktable)


def _statistics_tables(stats: Any) -> list[Rel]:
    if stats is None:
        return []
    stmt = pglast.parse_sql(stats.definition)[0].stmt
    return [_rel(r) for r in stmt.relations if isinstance(r, ast.RangeVar)]


@_handles(ast.CreateStatsStmt)
def _create_statistics(node: ast.CreateStatsStmt, found: _Found) -> None:
    for r in node.relations:
        found.lock(_rel(r), SUE)


@_handles(ast.RenameStmt)
def _rename(node: ast.RenameStmt, found: _Found) -> None:
    kind = node.renameType
    if kind == ObjectType.OBJECT_INDEX:
        found.lock(_rel(node.relation), SUE)
    elif kind in (ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY, ObjectType.OBJECT_RULE):
        found.lock(_rel(node.relation), AE)
    elif node.relation is not None:
        rel = _rel(node.relation)
        found.lock(rel, AE)
        if kind in (ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT) and node.relation.inh:
            for child in found.descendants(rel):
                found.lock(child, AE)


@_handles(ast.AlterObjectSchemaStmt)
def _set_schema(node: ast.AlterObjectSchemaStmt, found: _Found) -> None:
    if node.relation is not None:
        found.lock(_rel(node.relation), AE)


_RELATION_OBJECTS = {ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW,
                     ObjectType.OBJECT_FOREIGN_TABLE, ObjectType.OBJECT_INDEX, ObjectType.OBJECT_SEQUENCE}
_ON_TABLE_OBJECTS = {ObjectType.OBJECT_TABCONSTRAINT, ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY,
                     ObjectType.OBJECT_RULE}


@_handles(ast.CommentStmt)
def _comment(node: ast.CommentStmt, found: _Found) -> None:
    kind = node.objtype
    if kind in _RELATION_OBJECTS:
        found.lock(_qualified(node.object), SUE)
    elif kind == ObjectType.OBJECT_COLUMN:
        found.lock(_qualified(node.object[:-1]), SUE)
    elif kind in _ON_TABLE_OBJECTS:  # found through its table, which is only opened
        found.lock(_qualified(node.object[:-1]), AS)


@_handles(ast.GrantStmt)
def _grant(node: ast.GrantStmt, found: _Found) -> None:
    """GRANT and REVOKE on a relation: ACCESS SHARE on PostgreSQL 18, none on 15 (observed on
    those two; 16 and 17 are given 18's, the stronger)."""
    on_relations = node.objtype in _RELATION_OBJECTS and node.targtype == GrantTargetType.ACL_TARGET_OBJECT
    if found.ctx.server_version >= 160000 and on_relations:
        for rv in node.objects:
            found.lock(_rel(rv), AS)


@_handles(ast.AlterSeqStmt)
def _alter_sequence(node: ast.AlterSeqStmt, found: _Found) -> None:
    found.lock(_rel(node.sequence), SRE)
    for option in node.options or ():
        if option.defname == "owned_by" and len(option.arg) > 1:
            found.lock(_qualified(option.arg[:-1]), AS)


@_handles(ast.CreateTrigStmt)
def _create_trigger(node: ast.CreateTrigStmt, found: _Found) -> None:
    rel = _rel(node.relation)
    found.lock(rel, SRE)
    if node.constrrel is not None:
        found.lock(_rel(node.constrrel), AS)
    if found.ctx.source.objects.get(("table", *rel)) and _partitioned(found, rel):
        for child in found.descendants(rel):
            found.lock(child, SRE)


def _partitioned(found: _Found, rel: Rel) -> bool:
    table = found.find(("table", *rel))
    return isinstance(table, Table) and table.partitioned


@_handles(ast.CreatePolicyStmt, ast.AlterPolicyStmt)
def _policy(node: Any, found: _Found) -> None:
    found.lock(_rel(node.table), AE)
    _reads((node.qual, node.with_check), found)


@_handles(ast.RuleStmt)
def _rule(node: ast.RuleStmt, found: _Found) -> None:
    found.lock(_rel(node.relation), AE)
    _reads((node.whereClause, node.actions), found)


@_handles(ast.CreatePublicationStmt, ast.AlterPublicationStmt)
def _publication(node: Any, found: _Found) -> None:
    for obj in node.pubobjects or ():
        if obj.pubtable is not None:
            found.lock(_rel(obj.pubtable.relation), SUE)


@_handles(ast.AlterDomainStmt)
def _alter_domain(node: ast.AlterDomainStmt, found: _Found) -> None:
    """A new constraint (or NOT NULL, or VALIDATE) checks every column of the domain: SHARE on its tables."""
    if node.subtype not in ("C", "O", "V"):
        return
    if node.subtype == "C" and node.def_.skip_validation:
        return
    domain = _qualified(node.typeName)
    for table in found.ctx.target.objects.values():
        if isinstance(table, Table) and any(_is_type(c.type, domain) for c in table.columns):
            found.lock((table.schema, table.name), SHARE)
            found.does("scan")


def _is_type(type_name: str, domain: Rel) -> bool:
    return type_name in (f"{domain[0]}.{domain[1]}", f'"{domain[0]}"."{domain[1]}"', domain[1]) \
        or type_name.replace('"', "") == f"{domain[0]}.{domain[1]}"


# --- ALTER TABLE -----------------------------------------------------------------------------

_SUBCOMMAND_MODE = {
    AT.AT_SetStatistics: SUE, AT.AT_SetOptions: SUE, AT.AT_ResetOptions: SUE, AT.AT_ValidateConstraint: SUE,
    AT.AT_ClusterOn: SUE, AT.AT_DropCluster: SUE, AT.AT_AttachPartition: SUE, AT.AT_DetachPartitionFinalize: SUE,
    AT.AT_EnableTrig: SRE, AT.AT_EnableAlwaysTrig: SRE, AT.AT_EnableReplicaTrig: SRE, AT.AT_DisableTrig: SRE,
    AT.AT_EnableTrigAll: SRE, AT.AT_DisableTrigAll: SRE, AT.AT_EnableTrigUser: SRE, AT.AT_DisableTrigUser: SRE,
}
# Subcommands that PostgreSQL runs on every partition and inheritance child too (unless ONLY).
_RECURSES = {
    AT.AT_AddColumn, AT.AT_DropColumn, AT.AT_ColumnDefault, AT.AT_DropNotNull, AT.AT_SetNotNull,
    AT.AT_SetExpression, AT.AT_DropExpression, AT.AT_SetStatistics, AT.AT_SetOptions, AT.AT_ResetOptions,
    AT.AT_SetStorage, AT.AT_SetCompression, AT.AT_AddConstraint, AT.AT_DropConstraint, AT.AT_ValidateConstraint,
    AT.AT_AlterColumnType, AT.AT_AddIdentity, AT.AT_SetIdentity, AT.AT_DropIdentity,
}
# Storage parameters that only SHARE UPDATE EXCLUSIVE guards; any other needs ACCESS EXCLUSIVE.
_LIGHT_OPTIONS = ("fillfactor", "autovacuum_", "toast.autovacuum_", "toast_tuple_target", "parallel_workers",
                  "vacuum_index_cleanup", "vacuum_truncate", "toast.vacuum_", "log_autovacuum_min_duration",
                  "toast.log_autovacuum_min_duration")


@_handles(ast.AlterTableStmt)
def _alter_table(node: ast.AlterTableStmt, found: _Found) -> None:
    rel = _rel(node.relation)
    if node.objtype in (ObjectType.OBJECT_INDEX, ObjectType.OBJECT_SEQUENCE):
        for cmd in node.cmds:
            found.lock(rel, _SUBCOMMAND_MODE.get(cmd.subtype, AE))
            if cmd.subtype == AT.AT_AttachPartition:  # ALTER INDEX parent ATTACH PARTITION child
                _attach_index(rel, _rel(cmd.def_.name), found)
        return
    if node.objtype == ObjectType.OBJECT_TYPE:  # a composite type's attributes: no table
        return
    for cmd in node.cmds:
        mode = _mode(cmd)
        found.lock(rel, mode)
        if cmd.subtype in _RECURSES and node.relation.inh:
            for child in found.descendants(rel):
                found.lock(child, mode)
        _SUBCOMMAND.get(cmd.subtype, lambda rel, cmd, found: None)(rel, cmd, found)


def _mode(cmd: ast.AlterTableCmd) -> str:
    if cmd.subtype == AT.AT_AddConstraint and cmd.def_.contype == ConstrType.CONSTR_FOREIGN:
        return SRE
    if cmd.subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
        light = all(o.defname.startswith(_LIGHT_OPTIONS) or (o.defnamespace == "toast" and
                                                            f"toast.{o.defname}".startswith(_LIGHT_OPTIONS))
                    for o in cmd.def_)
        return SUE if light else AE
    if cmd.subtype == AT.AT_DetachPartition and cmd.def_.concurrent:
        return SUE
    return _SUBCOMMAND_MODE.get(cmd.subtype, AE)


_SUBCOMMAND: dict[Any, Callable[[Rel, ast.AlterTableCmd, _Found], None]] = {}


def _subcommand(*subtypes: Any) -> Callable[[Callable[[Rel, ast.AlterTableCmd, _Found], None]], Any]:
    def register(fn: Callable[[Rel, ast.AlterTableCmd, _Found], None]) -> Any:
        for s in subtypes:
            _SUBCOMMAND[s] = fn
        return fn

    return register


def _attach_index(parent: Rel, child: Rel, found: _Found) -> None:
    """The partition's index is changed, the parent's only marked valid; both tables are read."""
    found.lock(child, AE)
    for index in (parent, child):
        obj = found.find(("index", *index))
        if isinstance(obj, Index):
            found.lock((obj.schema, obj.table), AS)


@_subcommand(AT.AT_AddColumn)
def _add_column(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    """Instant unless each row needs its own value (a volatile default, identity, stored
    generation, a domain with constraints to check) or a NOT NULL without a default to check."""
    column: ast.ColumnDef = cmd.def_
    constraints = column.constraints or ()
    kinds = {c.contype for c in constraints}
    default = next((c.raw_expr for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT), None)
    stored = any(c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind != "v" for c in constraints)
    if ConstrType.CONSTR_IDENTITY in kinds or stored or _volatile(default, found) or \
            _constrained_domain(column.typeName, found):
        found.does("rewrite")
    elif ConstrType.CONSTR_NOTNULL in kinds and default is None and ConstrType.CONSTR_GENERATED not in kinds:
        found.does("scan")
    for c in constraints:
        _constraint_effect(rel, c, found)


def _constrained_domain(type_name: ast.TypeName, found: _Found) -> bool:
    rel = _qualified(type_name.names)
    domain = found.find(("type", *rel))
    return isinstance(domain, Domain) and bool(domain.not_null or domain.constraints)


# Built-in functions PostgreSQL marks volatile that a column default plausibly calls; the lock
# test checks each is volatile on the server. Any other function not in the model counts as stable.
VOLATILE_BUILTINS = frozenset({"random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid",
                               "uuidv4", "uuidv7", "nextval", "setval"})


def _volatile(expr: Any, found: _Found) -> bool:
    for sub in _walk(expr):
        if isinstance(sub, ast.FuncCall):
            schema, name = _qualified(sub.funcname)
            if len(sub.funcname) == 1 or schema == "pg_catalog":
                if name in VOLATILE_BUILTINS:
                    return True
            if _user_function_volatile(schema, name, found):
                return True
    return False


def _user_function_volatile(schema: str, name: str, found: _Found) -> bool:
    for obj in (*found.ctx.target.objects.values(),):
        if isinstance(obj, Function) and (obj.schema, obj.name) == (schema, name):
            return _function_volatility(obj) == "volatile"
    return False


def _function_volatility(f: Function) -> str:
    stmt = pglast.parse_sql(f.definition)[0].stmt
    for option in stmt.options or ():
        if option.defname == "volatility":
            return option.arg.sval
    return "volatile"


@_subcommand(AT.AT_AlterColumnType)
def _alter_type(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    old, new = found.column(rel, cmd.name, "source"), found.column(rel, cmd.name, "target")
    if old is None or new is None or not binary_coercible(old.type, new.type):
        found.does("rewrite")


@_subcommand(AT.AT_SetNotNull)
def _set_not_null(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    if not _proven_not_null(rel, cmd.name, found):
        found.does("scan")


def _proven_not_null(rel: Rel, column: str, found: _Found) -> bool:
    """A validated CHECK (column IS NOT NULL) on the table before and after the plan: PostgreSQL
    then skips the scan."""
    def checks(schema: Any) -> set[str]:
        return {c.definition for c in schema.constraints_on(*rel) if c.type == "c" and
                not c.definition.endswith("NOT VALID")}

    wanted = {f"CHECK (({column} IS NOT NULL))", f'CHECK (("{column}" IS NOT NULL))'}
    return bool(wanted & checks(found.ctx.source) & checks(found.ctx.target))


@_subcommand(AT.AT_AddConstraint)
def _add_constraint(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    _constraint_effect(rel, cmd.def_, found)


def _constraint_effect(rel: Rel, c: ast.Constraint, found: _Found) -> None:
    if c.contype == ConstrType.CONSTR_FOREIGN:
        found.lock(_rel(c.pktable), SRE)
    if c.contype in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_NOTNULL):
        if not c.skip_validation and (c.contype != ConstrType.CONSTR_NOTNULL or c.keys):
            found.does("scan")
    elif c.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION):
        if c.indexname is None or c.contype == ConstrType.CONSTR_PRIMARY:
            found.does("scan")


@_subcommand(AT.AT_ValidateConstraint)
def _validate(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    c = found.find(("constraint", *rel, cmd.name))
    referenced = _referenced(c) if isinstance(c, Constraint) else None
    if referenced:
        found.lock(referenced, RS)
    found.does("scan")


@_subcommand(AT.AT_DropConstraint)
def _drop_constraint(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    c = found.ctx.source.objects.get(("constraint", *rel, cmd.name))
    referenced = _referenced(c) if isinstance(c, Constraint) else None
    if referenced:
        found.lock(referenced, AE)


@_subcommand(AT.AT_SetLogged, AT.AT_SetUnLogged, AT.AT_SetAccessMethod, AT.AT_SetTableSpace)
def _rewrites(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    found.does("rewrite")


@_subcommand(AT.AT_SetExpression)
def _set_expression(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    old = found.column(rel, cmd.name, "source")
    if old is None or old.generated_kind != "v":
        found.does("rewrite")


@_subcommand(AT.AT_AttachPartition)
def _attach(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    """The partition is scanned for rows outside its bound, and so is the default partition."""
    partition = _rel(cmd.def_.name)
    found.lock(partition, AE)
    default = found.default_partition(rel)
    if default and default != partition:
        found.lock(default, AE)
    found.does("scan")


@_subcommand(AT.AT_DetachPartition)
def _detach(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    """The partition and the default partition (whose constraint changes). CONCURRENTLY, after
    waiting for the partition's users with no lock held, still finishes under ACCESS EXCLUSIVE on
    the partition (and SHARE UPDATE EXCLUSIVE on the parent)."""
    found.lock(_rel(cmd.def_.name), AE)
    default = found.default_partition(rel)
    if default:
        found.lock(default, AE)


@_subcommand(AT.AT_AddInherit)
def _inherit(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    found.lock(_rel(cmd.def_), SUE)


@_subcommand(AT.AT_DropInherit)
def _no_inherit(rel: Rel, cmd: ast.AlterTableCmd, found: _Found) -> None:
    found.lock(_rel(cmd.def_), AS)


# --- type changes that keep the stored bytes -------------------------------------------------

# (old, new) pairs pg_cast marks binary-coercible (castmethod 'b') that a column type change uses;
# the lock test checks each on the server. A type whose modifiers only widen is the same bytes too.
BINARY_COERCIBLE = frozenset({
    ("character varying", "text"), ("text", "character varying"), ("cidr", "inet"), ("xml", "text"),
})
_WIDENS = ("character varying", "numeric", "bit varying", "timestamp without time zone",
           "timestamp with time zone", "time without time zone", "interval")


def binary_coercible(old: str, new: str) -> bool:
    """Whether ALTER COLUMN TYPE from `old` to `new` leaves every stored value as it is (no rewrite)."""
    a_base, a_mods, a_array = _split(old)
    b_base, b_mods, b_array = _split(new)
    if a_array != b_array:
        return False
    if a_base == b_base:
        return a_mods == b_mods or _widened(a_base, a_mods, b_mods)
    return (a_base, b_base) in BINARY_COERCIBLE and not b_mods


def _split(type_name: str) -> tuple[str, tuple[int, ...], str]:
    array = ""
    while type_name.endswith("[]"):
        type_name, array = type_name[:-2], array + "[]"
    for word in _WIDENS + ("character", "bit"):
        for spelled in (word,):
            if type_name.startswith(spelled + "(") and ")" in type_name:
                inner, rest = type_name[len(spelled) + 1:].split(")", 1)
                name = spelled + rest
                return name, tuple(int(m) for m in inner.split(",")), array
    return type_name, (), array


def _widened(base: str, old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    if not new:
        return base in _WIDENS
    if not old:
        return False
    if base == "numeric":
        (p1, s1), (p2, s2) = (old + (0,))[:2], (new + (0,))[:2]
        return s1 == s2 and p2 >= p1
    return base in _WIDENS and new[0] >= old[0]


