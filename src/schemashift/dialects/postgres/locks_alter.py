"""Lock labels of ALTER TABLE (and ALTER INDEX / VIEW / SEQUENCE): the strongest lock of its
subcommands, on the relations each touches, and whether one rewrites or scans the table.

Every entry is observed on the server by `tests/test_lock_labels.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...model import Domain, Function, Index, Table
from .lock_tree import AE, AS, SRE, SUE, RS, Fields, Found, Rel, listed, qualified, referenced_table, rel, \
    statements, unwrap, walk

Subcommand = Callable[[Rel, Fields, Found], None]

_TRIGGER_STATES = frozenset(f"AT_{verb}" for verb in (
    "EnableTrig", "EnableAlwaysTrig", "EnableReplicaTrig", "DisableTrig", "EnableTrigAll", "DisableTrigAll",
    "EnableTrigUser", "DisableTrigUser"))
_MODE = {
    "AT_SetStatistics": SUE, "AT_SetOptions": SUE, "AT_ResetOptions": SUE, "AT_ValidateConstraint": SUE,
    "AT_ClusterOn": SUE, "AT_DropCluster": SUE, "AT_AttachPartition": SUE, "AT_DetachPartitionFinalize": SUE,
    **dict.fromkeys(_TRIGGER_STATES, SRE),
}
# Subcommands PostgreSQL runs on every partition and inheritance child too (unless ONLY).
_RECURSES = frozenset(f"AT_{name}" for name in (
    "AddColumn", "DropColumn", "ColumnDefault", "DropNotNull", "SetNotNull", "SetExpression", "DropExpression",
    "SetStatistics", "SetOptions", "ResetOptions", "SetStorage", "SetCompression", "AddConstraint",
    "DropConstraint", "ValidateConstraint", "AlterColumnType", "AddIdentity", "SetIdentity", "DropIdentity"))
# Storage parameters that only SHARE UPDATE EXCLUSIVE guards; any other needs ACCESS EXCLUSIVE.
_LIGHT_OPTIONS = ("fillfactor", "autovacuum_", "toast_tuple_target", "parallel_workers", "vacuum_index_cleanup",
                  "vacuum_truncate", "log_autovacuum_min_duration")


def alter_table(node: Fields, found: Found) -> None:
    relation = rel(node["relation"])
    kind = node["objtype"]
    if kind == "OBJECT_TYPE":  # a composite type's attributes: no table
        return
    for cmd in node["cmds"]:
        cmd = cmd["AlterTableCmd"]
        subtype = cmd["subtype"]
        if kind in ("OBJECT_INDEX", "OBJECT_SEQUENCE"):
            found.lock(relation, _MODE.get(subtype, AE))
            if subtype == "AT_AttachPartition":  # ALTER INDEX parent ATTACH PARTITION child
                _attach_index(relation, rel(unwrap(cmd["def"])[1]["name"]), found)
            continue
        # A partitioned table's triggers have clones on its partitions; inheritance children have none.
        recurse = bool(node["relation"].get("inh")) and (
            subtype in _RECURSES or subtype in _TRIGGER_STATES and partitioned(found, relation))
        found.lock_family(relation, _mode(cmd), recurse=recurse)
        handler = _SUBCOMMANDS.get(subtype)
        if handler:
            handler(relation, cmd, found)


def _mode(cmd: Fields) -> str:
    subtype, definition = cmd["subtype"], cmd.get("def")
    if subtype == "AT_AddConstraint" and unwrap(definition)[1]["contype"] == "CONSTR_FOREIGN":
        return SRE
    if subtype in ("AT_SetRelOptions", "AT_ResetRelOptions"):
        options = [o["DefElem"]["defname"] for o in listed(definition)]
        return SUE if all(o.startswith(_LIGHT_OPTIONS) for o in options) else AE
    if subtype == "AT_DetachPartition" and unwrap(definition)[1].get("concurrent"):
        return SUE
    return _MODE.get(subtype, AE)


_SUBCOMMANDS: dict[str, Subcommand] = {}


def _subcommand(*subtypes: str) -> Callable[[Subcommand], Subcommand]:
    def register(fn: Subcommand) -> Subcommand:
        for s in subtypes:
            _SUBCOMMANDS[f"AT_{s}"] = fn
        return fn

    return register


def partitioned(found: Found, table: Rel) -> bool:
    obj = found.model.find(("table", *table))
    return isinstance(obj, Table) and obj.partitioned


def _attach_index(parent: Rel, child: Rel, found: Found) -> None:
    """The partition's index is changed, the parent's only marked valid; both tables are read."""
    found.lock(child, AE)
    for index in (parent, child):
        obj = found.model.find(("index", *index))
        if isinstance(obj, Index):
            found.lock((obj.schema, obj.table), AS)


@_subcommand("AddColumn")
def _add_column(table: Rel, cmd: Fields, found: Found) -> None:
    """Instant unless each row needs its own value (a volatile default, identity, stored
    generation, a domain with constraints to check: rewrite) or a NOT NULL without a default must
    be checked (scan)."""
    column = unwrap(cmd["def"])[1]
    constraints = [unwrap(c)[1] for c in column.get("constraints", [])]
    kinds = {c["contype"] for c in constraints}
    default = next((c["raw_expr"] for c in constraints if c["contype"] == "CONSTR_DEFAULT"), None)
    stored = any(c["contype"] == "CONSTR_GENERATED" and c.get("generated_kind") != "v" for c in constraints)
    if "CONSTR_IDENTITY" in kinds or stored or _volatile(default, found) or \
            _constrained_domain(column["typeName"], found):
        found.does("rewrite")
    elif "CONSTR_NOTNULL" in kinds and default is None and "CONSTR_GENERATED" not in kinds:
        found.does("scan")
    for c in constraints:
        _constraint(c, found)


def _constrained_domain(type_name: Fields, found: Found) -> bool:
    domain = found.model.find(("type", *qualified(type_name["names"])))
    return isinstance(domain, Domain) and bool(domain.not_null or domain.constraints)


# Built-in functions PostgreSQL marks volatile that a column default plausibly calls; the lock
# test checks each is volatile on the server. Any other function not in the model counts as stable.
VOLATILE_BUILTINS = frozenset({"random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid",
                               "uuidv4", "uuidv7", "nextval", "setval"})


def _volatile(expr: Any, found: Found) -> bool:
    for d in walk(expr):
        call = d.get("FuncCall")
        if call is None:
            continue
        schema, name = qualified(call["funcname"])
        builtin = len(call["funcname"]) == 1 or schema == "pg_catalog"
        if builtin and name in VOLATILE_BUILTINS:
            return True
        if any(_volatility(f) == "volatile" for f in found.model.functions.get((schema, name), ())):
            return True
    return False


def _volatility(f: Function) -> str:
    (_, stmt), = statements(f.definition)
    for option in stmt.get("options", []):
        if option["DefElem"]["defname"] == "volatility":
            return str(option["DefElem"]["arg"]["String"]["sval"])
    return "volatile"


@_subcommand("AlterColumnType")
def _alter_type(table: Rel, cmd: Fields, found: Found) -> None:
    """A foreign key on the column, either side, is dropped and added again: ACCESS EXCLUSIVE on
    the other table too."""
    for own, columns, referenced, referenced_columns in found.model.foreign_keys:
        if own == table and cmd["name"] in columns:
            found.lock(referenced, AE)
        if referenced == table and cmd["name"] in referenced_columns:
            found.lock(own, AE)
    old, new = found.model.column(table, cmd["name"], "source"), found.model.column(table, cmd["name"], "target")
    if old is None or new is None or not binary_coercible(old.type, new.type):
        found.does("rewrite")


@_subcommand("SetNotNull")
def _set_not_null(table: Rel, cmd: Fields, found: Found) -> None:
    if not _proven_not_null(table, cmd["name"], found):
        found.does("scan")


def _proven_not_null(table: Rel, column: str, found: Found) -> bool:
    """A validated CHECK (column IS NOT NULL) on the table before and after the plan: PostgreSQL
    then skips the scan."""
    def checks(schema: Any) -> set[str]:
        return {c.definition for c in schema.constraints_on(*table)
                if c.type == "c" and not c.definition.endswith(" NOT VALID")}

    wanted = {f"CHECK (({column} IS NOT NULL))", f'CHECK (("{column}" IS NOT NULL))'}
    return bool(wanted & checks(found.model.source) & checks(found.model.target))


@_subcommand("AddConstraint")
def _add_constraint(table: Rel, cmd: Fields, found: Found) -> None:
    _constraint(unwrap(cmd["def"])[1], found)


def _constraint(c: Fields, found: Found) -> None:
    """A CHECK, foreign key or NOT NULL is checked row by row unless NOT VALID; a primary key,
    unique or exclusion constraint builds its index (a primary key USING INDEX still checks NOT NULL)."""
    kind = c["contype"]
    if kind == "CONSTR_FOREIGN":
        found.lock(rel(c["pktable"]), SRE)
    if kind in ("CONSTR_CHECK", "CONSTR_FOREIGN", "CONSTR_NOTNULL"):
        if not c.get("skip_validation") and (kind != "CONSTR_NOTNULL" or c.get("keys")):
            found.does("scan")
    elif kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"):
        if not c.get("indexname") or kind == "CONSTR_PRIMARY":
            found.does("scan")


@_subcommand("ValidateConstraint")
def _validate(table: Rel, cmd: Fields, found: Found) -> None:
    """A foreign key's referenced table is read under ROW SHARE."""
    c = found.model.find(("constraint", *table, cmd["name"]))
    referenced = referenced_table(c) if c is not None else None
    if referenced:
        found.lock(referenced, RS)
    found.does("scan")


@_subcommand("DropConstraint")
def _drop_constraint(table: Rel, cmd: Fields, found: Found) -> None:
    c = found.model.source.objects.get(("constraint", *table, cmd["name"]))
    referenced = referenced_table(c) if c is not None else None
    if referenced:
        found.lock(referenced, AE)


@_subcommand("SetLogged", "SetUnLogged", "SetAccessMethod", "SetTableSpace")
def _rewrites(table: Rel, cmd: Fields, found: Found) -> None:
    found.does("rewrite")


@_subcommand("SetExpression")
def _set_expression(table: Rel, cmd: Fields, found: Found) -> None:
    old = found.model.column(table, cmd["name"], "source")
    if old is None or old.generated_kind != "v":
        found.does("rewrite")


@_subcommand("AttachPartition")
def _attach(table: Rel, cmd: Fields, found: Found) -> None:
    """The partition is scanned for rows outside its bound, and so is the default partition; the
    parent's foreign keys are cloned onto it."""
    partition = rel(unwrap(cmd["def"])[1]["name"])
    found.lock(partition, AE)
    found.lock_inherited_keys(table)
    default = found.model.default_partition(table)
    if default and default != partition:
        found.lock(default, AE)
    found.does("scan")


@_subcommand("DetachPartition")
def _detach(table: Rel, cmd: Fields, found: Found) -> None:
    """The partition and the default partition (whose constraint changes). CONCURRENTLY, after
    waiting for the partition's users with no lock held, still finishes under ACCESS EXCLUSIVE on
    the partition (and SHARE UPDATE EXCLUSIVE on the parent)."""
    found.lock(rel(unwrap(cmd["def"])[1]["name"]), AE)
    default = found.model.default_partition(table)
    if default:
        found.lock(default, AE)


@_subcommand("AddInherit")
def _inherit(table: Rel, cmd: Fields, found: Found) -> None:
    found.lock(rel(cmd["def"]), SUE)


@_subcommand("DropInherit")
def _no_inherit(table: Rel, cmd: Fields, found: Found) -> None:
    found.lock(rel(cmd["def"]), AS)


# (old, new) pairs pg_cast marks binary-coercible (castmethod 'b') that a column type change uses;
# the lock test checks each on the server. A type whose modifiers only widen keeps its bytes too.
BINARY_COERCIBLE = frozenset({("character varying", "text"), ("text", "character varying"), ("cidr", "inet"),
                              ("xml", "text")})
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
    """`numeric(10,2)[]` → ("numeric", (10, 2), "[]"); `timestamp(3) without time zone` keeps its words."""
    array = ""
    while type_name.endswith("[]"):
        type_name, array = type_name[:-2], array + "[]"
    head, paren, rest = type_name.partition("(")
    if not paren or ")" not in rest:
        return type_name, (), array
    inner, tail = rest.split(")", 1)
    return head + tail, tuple(int(m) for m in inner.split(",")), array


def _widened(base: str, old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    if base not in _WIDENS:
        return False
    if not new:
        return True
    if not old:
        return False
    if base == "numeric":
        (p1, s1), (p2, s2) = (old + (0,))[:2], (new + (0,))[:2]
        return s1 == s2 and p2 >= p1
    return new[0] >= old[0]
