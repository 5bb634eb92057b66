"""DDL for tables, columns, constraints, indexes and sequences."""

from __future__ import annotations

from dataclasses import replace

from ...model import Column, Constraint, Domain, EnumType, IdentityOptions, Index, Key, Schema, Sequence, Table
from ...plan import Statement
from .render_core import (
    ALTER,
    CREATE,
    DROP,
    RENAME,
    Context,
    alter,
    annotate,
    comment_statements,
    create,
    drop,
    grant_statements,
    renders,
    target,
)
from .sqltext import ident, qualified
from .types import castable, lossless_type_change


@target.register
def _(obj: Table) -> str:
    return f"TABLE {qualified(obj.schema, obj.name)}"


@target.register
def _(obj: Sequence) -> str:
    return f"SEQUENCE {qualified(obj.schema, obj.name)}"


@target.register
def _(obj: Index) -> str:
    return f"INDEX {qualified(obj.schema, obj.name)}"


@target.register
def _(obj: Constraint) -> str:
    return f"CONSTRAINT {ident(obj.name)} ON {qualified(obj.schema, obj.table)}"


def _table_name(t: Table) -> str:
    return qualified(t.schema, t.name)


def sequence_option_list(o: IdentityOptions, with_type: bool = True) -> list[str]:
    parts = [f"AS {o.data_type}"] if with_type else []
    return parts + [f"INCREMENT BY {o.increment}", f"MINVALUE {o.minvalue}", f"MAXVALUE {o.maxvalue}",
                    f"START WITH {o.start}", f"CACHE {o.cache}", "CYCLE" if o.cycle else "NO CYCLE"]


def sequence_options(o: IdentityOptions, with_type: bool = True) -> str:
    return " ".join(sequence_option_list(o, with_type))


def _not_null(table: str, c: Column) -> str:
    """NOT NULL, named only when the name is not the one PostgreSQL 18 would choose."""
    if c.not_null_name and c.not_null_name != f"{table}_{c.name}_not_null":
        return f"CONSTRAINT {ident(c.not_null_name)} NOT NULL"
    return "NOT NULL"


def column_definition(c: Column, table: str = "") -> str:
    parts = [ident(c.name), c.type]
    if c.collation:
        parts.append(f"COLLATE {c.collation}")
    if c.generated:
        parts.append(f"GENERATED ALWAYS AS ({c.generated}) {'VIRTUAL' if c.generated_kind == 'v' else 'STORED'}")
    if c.identity:
        how = "ALWAYS" if c.identity == "a" else "BY DEFAULT"
        opts = f" ({sequence_options(c.identity_options, with_type=False)})" if c.identity_options else ""
        parts.append(f"GENERATED {how} AS IDENTITY{opts}")
    if c.default is not None:
        parts.append(f"DEFAULT {c.default}")
    if c.not_null:
        parts.append(_not_null(table, c))
    return " ".join(parts)


def identity_keys(t: Table, c: Column) -> list[Key]:
    """The name an identity column's implicit sequence takes, as a key for ordering (a partition's
    identity is its parent's, sequence and all)."""
    return [("sequence", t.schema, c.identity_sequence)] if c.identity and c.identity_sequence and not t.parent else []


def _own_columns(t: Table, ctx: Context) -> list[Column]:
    """The columns a table's CREATE names. A partition is created on its own, then attached, and
    the attach refuses an identity column: the partition takes its parent's identity from it."""
    local = [c for c in t.columns if c.local or t.parent or not t.inherits]
    parent = ctx.target.objects.get(("table", *t.parent)) if t.parent else None
    if not isinstance(parent, Table):
        return local
    inherited = {c.name for c in parent.columns if c.identity}
    return [replace(c, identity="", identity_options=None) if c.name in inherited else c for c in local]


def _column_parts(t: Table, c: Column) -> list[Key]:
    """The keys a column brings: itself, its default or generation expression, its identity sequence."""
    expression = [t.default_key(c.name)] if c.default is not None or c.generated else []
    return [t.column_key(c.name), *expression, *identity_keys(t, c)]


def _owned_keys(t: Table) -> list[Key]:
    """Everything a table's CREATE makes and its DROP removes."""
    return [k for c in t.columns for k in _column_parts(t, c)]


def _column_extras(t: Table, old: Column | None, new: Column, ctx: Context) -> list[Statement]:
    """SET STORAGE, COMMENT and column GRANTs, which CREATE TABLE / ADD COLUMN cannot say."""
    key = t.column_key(new.name)
    out: list[Statement] = []
    if new.storage and (old is None or old.storage != new.storage):
        storage = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}[new.storage]
        out.append(alter(f"ALTER TABLE {_table_name(t)} ALTER COLUMN {ident(new.name)} SET STORAGE {storage}",
                         key, ctx, phase="column"))
    if (old.comment if old is not None else None) != new.comment:  # names built only when needed
        out += comment_statements(old, new, ctx, name=f"COLUMN {_table_name(t)}.{ident(new.name)}", key=key)
    before = old.acl if old is not None else frozenset()
    if before != new.acl:
        out += grant_statements(before, new.acl, f"TABLE {_table_name(t)}", key, ctx,
                                columns=f" ({ident(new.name)})")
    return out


def _inherited_checks(t: Table, ctx: Context) -> list[str]:
    """A partition made on its own must already have its parent's CHECK constraints to be attached."""
    checks: list[str] = []
    parent = ctx.target.objects.get(("table", *t.parent)) if t.parent else None
    while isinstance(parent, Table):  # up to the root: a sub-partition needs every ancestor's
        checks += [f"CONSTRAINT {ident(c.name)} {c.definition}" for c in ctx.target.constraints_on(parent.schema, parent.name)
                   if c.type == "c" and not c.definition.endswith("NO INHERIT")]
        parent = ctx.target.objects.get(("table", *parent.parent)) if parent.parent else None
    return checks


def _partition_key(t: Table) -> Key:
    """Stands for "t is attached to its parent": index and constraint attachments need it."""
    return ("partition", t.schema, t.name)


@renders(CREATE, Table)
def create_table(t: Table, ctx: Context) -> list[Statement]:
    """A partition is made as pg_dump makes it: a table of its own, then ATTACH PARTITION, which adopts
    the partition's own indexes and constraints, so their names are the target's, not generated."""
    name = _table_name(t)
    local = _own_columns(t, ctx)
    head = f"CREATE {'UNLOGGED ' if t.unlogged else ''}TABLE {name}"
    lines = [column_definition(c, t.name) for c in local] + _inherited_checks(t, ctx)
    body = ",\n".join(f"    {line}" for line in lines)
    sql = f"{head} (\n{body}\n)" if lines else f"{head} ()"
    if t.inherits:
        sql += f" INHERITS ({', '.join(qualified(*p) for p in t.inherits)})"
    if t.partition_key:
        sql += f" PARTITION BY {t.partition_key}"
    if t.options:
        sql += f" WITH ({', '.join(t.options)})"
    out = [create(sql, t, ctx, also=_owned_keys(t))]
    out += _attach(None, t, ctx)
    out += _table_flags(None, t, ctx)
    for c in t.columns:
        out += _column_extras(t, None, c, ctx)
    out += annotate(None, t, ctx)
    return out


@renders(DROP, Table)
def drop_table(t: Table, ctx: Context) -> list[Statement]:
    attached = [_partition_key(t)] if t.parent else []
    return [drop(f"DROP TABLE {_table_name(t)}", t, ctx, also=_owned_keys(t) + attached)]


def _table_flags(old: Table | None, new: Table, ctx: Context) -> list[Statement]:
    name = _table_name(new)
    out: list[Statement] = []

    def add(sql: str) -> None:
        out.append(alter(f"ALTER TABLE {name} {sql}", new.key, ctx, phase="table"))

    before = old or Table(new.schema, new.name, unlogged=new.unlogged, options=new.options)
    if before.rls != new.rls:
        add("ENABLE ROW LEVEL SECURITY" if new.rls else "DISABLE ROW LEVEL SECURITY")
    if before.force_rls != new.force_rls:
        add("FORCE ROW LEVEL SECURITY" if new.force_rls else "NO FORCE ROW LEVEL SECURITY")
    if before.replica_identity != new.replica_identity and new.replica_identity in "dfn":
        add("REPLICA IDENTITY " + {"d": "DEFAULT", "f": "FULL", "n": "NOTHING"}[new.replica_identity])
    return out


@renders(ALTER, Table)
def alter_table(old: Table, new: Table, ctx: Context) -> list[Statement]:
    name = _table_name(new)
    out: list[Statement] = []
    if old.unlogged != new.unlogged:
        out += _persistence(new, ctx)
    out += _options(old, new, ctx)
    out += _parents(old, new, ctx)
    old = _as_detached(old, new, ctx)
    for c in old.columns:
        if new.column(c.name) is None and c.local:
            parts = _column_parts(old, c)
            out.append(alter(f"ALTER TABLE {name} DROP COLUMN {ident(c.name)}", new.key, ctx, phase="column",
                             drops=[*parts, *_inherited_copies(old, c.name, ctx.source)],
                             releases=frozenset().union(*(ctx.source.dependencies(k) for k in parts)),
                             destructive=True, why=f"drops column {old.name}.{c.name} and its data"))
    for c in new.columns:
        before = old.column(c.name)
        if before is not None and not before.local and c.local and _parent_drops(old, c.name, ctx):
            before = None  # goes with the parent's column: add it back as the table's own
        elif before is not None and before.local and not c.local and _parent_adds(new, c.name, ctx):
            # Only a column the parent brings is inherited-only; the table's own must go first.
            out.append(alter(f"ALTER TABLE {name} DROP COLUMN {ident(c.name)}", new.key, ctx, phase="column",
                             drops=[new.column_key(c.name)], releases=ctx.source.dependencies(new.column_key(c.name)),
                             destructive=True, why=f"{new.name}.{c.name} becomes the parent's column; "
                             "the table's own values are dropped"))
            continue
        if before is None:
            if c.local or not (new.parent or new.inherits):
                parts = _column_parts(new, c)
                bare = _addable(old, c, ctx)
                out.append(alter(f"ALTER TABLE {name} ADD COLUMN {column_definition(bare, new.name)}", new.key, ctx,
                                 phase="column", creates=[*parts, *_inherited_copies(new, c.name, ctx.target)],
                                 requires=frozenset().union(*(ctx.target.dependencies(k) for k in parts))))
                out += _alter_column(new, bare, c, ctx) if bare is not c else []
            out += _column_extras(new, None, c, ctx)
        else:
            out += _column_change(old, new, before, c, ctx)
    out += _attach(old, new, ctx)
    out += _table_flags(old, new, ctx)
    out += annotate(old, new, ctx)
    return out + _unchanged_children(new, ctx)


def _column_change(old: Table, new: Table, before: Column, after: Column, ctx: Context) -> list[Statement]:
    """A column's ALTERs from where its parents' recursing ALTERs leave it."""
    before, parents = _recursed(old, new, before, ctx)
    if ctx.target.objects.get(new.key) is not new:  # a step to a state between the two (defaults taken
        after = _recursed(old, new, after, ctx)[0]  # off and put back): the parents' ALTERs reach both ends
    if old.parent != new.parent:  # an attach gives the parent's identity, a detach takes it away
        before = _without_parent_identity(before, old.parent, ctx.source)
        after = _without_parent_identity(after, new.parent, ctx.target)
    return _alter_column(new, before, after, ctx, after=parents) if before != after else []


def _unchanged_children(t: Table, ctx: Context) -> list[Statement]:
    """Children the same on both sides have no ALTER of their own, yet the parent's ALTERs reach
    them: put back what those change (a default of the child's own that the parent's drop took)."""
    out: list[Statement] = []
    for child in ctx.target.children_of(t.schema, t.name):
        if ctx.source.objects.get(child.key) == child:
            for c in child.columns:
                out += _column_change(child, child, c, c, ctx)
    return out


def _persistence(t: Table, ctx: Context) -> list[Statement]:
    """SET LOGGED / UNLOGGED in the order of the foreign keys between the tables that change: a
    logged table may not reference an unlogged one, so the referenced table goes logged first and
    the referencing one goes unlogged first. Tables whose foreign keys make a cycle have no such
    order: the keys inside the cycle come off first and go back on once all of them have changed."""
    how = "UNLOGGED" if t.unlogged else "LOGGED"
    me = (t.schema, t.name)
    # Keys that change are dropped before and added after (create_constraint waits for persistence).
    fks = [(c.schema, c.table, _referenced_tables(c, ctx.target)) for c in _unchanged_fks(ctx)]
    changing = [c.key for c in ctx.source.objects.values() if isinstance(c, Constraint) and c.type == "f"
                and ctx.target.objects.get(c.key) != c and me in {(c.schema, c.table), *_referenced_tables(c, ctx.source)}]
    if t.unlogged:  # after the tables that reference it
        first = {(s, n) for s, n, refs in fks if me in refs}
    else:  # after the tables it references
        first = set().union(*(refs for s, n, refs in fks if (s, n) == me))
    cycle = _persistence_cycle(me, t.unlogged, ctx)
    broken = [c for c in _unchanged_fks(ctx) if (c.schema, c.table) in cycle
              and _referenced_tables(c, ctx.target) & (cycle - {(c.schema, c.table)})]
    out = [alter(f"ALTER TABLE {_table_name(t)} DROP CONSTRAINT {ident(c.name)}", c.key, ctx, phase="table",
                 creates=[("persistence-free", *c.key)], drops=[c.key]) for c in broken if (c.schema, c.table) == me]
    out.append(alter(f"ALTER TABLE {_table_name(t)} SET {how}", t.key, ctx, phase="table",
                     creates=[("persistence", *me)], after_drop=changing,
                     requires=[("persistence", *k) for k in first - cycle - {me}]
                     + [("persistence-free", *c.key) for c in broken]))
    for c in (c for c in broken if (c.schema, c.table) == me):  # back with its comment
        out.append(alter(f"ALTER TABLE {_table_name(t)} ADD CONSTRAINT {ident(c.name)} {c.definition}", c.key, ctx,
                         phase="foreign_key", requires=[("persistence", *k) for k in cycle], creates=[c.key]))
        out += annotate(None, c, ctx)
    return out


def _unchanged_fks(ctx: Context) -> list[Constraint]:
    """Foreign keys the plan leaves as they are (others are dropped or added by their own change)."""
    return [c for c in ctx.target.objects.values()
            if isinstance(c, Constraint) and c.type == "f" and ctx.source.objects.get(c.key) == c]


def _persistence_cycle(me: tuple[str, str], unlogged: bool, ctx: Context) -> set[tuple[str, str]]:
    """The tables going the same way as `me` (logged or unlogged) that reach `me` and that `me`
    reaches through foreign keys: its strongly connected component (just `me` when there is no cycle)."""
    moving = {(o.schema, o.name) for o in ctx.target.objects.values() if isinstance(o, Table)
              and o.unlogged == unlogged and isinstance(old := ctx.source.objects.get(o.key), Table)
              and old.unlogged != unlogged}
    edges = {(c.schema, c.table, r) for c in _unchanged_fks(ctx) for r in _referenced_tables(c, ctx.target)
             if (c.schema, c.table) in moving and r in moving and r != (c.schema, c.table)}

    def reach(start: tuple[str, str], forward: bool) -> set[tuple[str, str]]:
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            for s, n, r in edges:
                a, b = ((s, n), r) if forward else (r, (s, n))
                if a == node and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    return reach(me, True) & reach(me, False)


def _referenced_tables(c: Constraint, schema: Schema) -> set[tuple[str, str]]:
    """The tables a foreign key reads, from its dependencies (their columns, constraints, tables)."""
    return {(k[1], k[2]) for k in schema.dependencies(c.key) if k[0] in ("table", "column", "constraint")}


def _inherited_copies(parent: Table, column: str, schema: Schema) -> list[Key]:
    """Columns of child tables that only exist through `parent`: its ADD COLUMN makes them and its
    DROP COLUMN drops them too."""
    keys = []
    for child in schema.children_of(parent.schema, parent.name):
        col = child.column(column)
        if col is not None and not col.local:
            keys.append(child.column_key(column))
    return keys


def _kept_parents(old: Table, new: Table, ctx: Context) -> list[tuple[Table, Table]]:
    """The parents a table has on both sides, as (source, target): their ALTERs reach it."""
    kept = [p for p in (old.parent, *old.inherits) if p and p in (new.parent, *new.inherits)]
    pairs = [(ctx.source.objects.get(("table", *p)), ctx.target.objects.get(("table", *p))) for p in kept]
    return [(a, b) for a, b in pairs if isinstance(a, Table) and isinstance(b, Table)]


def _addable(old: Table, c: Column, ctx: Context) -> Column:
    """The column as ADD COLUMN can bring it: before PostgreSQL 17 an identity column cannot be added
    to a table with children ("cannot recursively add identity column"), so it is added plain and
    made an identity after."""
    if c.identity and ctx.server_version < 170000 and ctx.source.children_of(old.schema, old.name):
        return replace(c, identity="", identity_options=None, not_null=True)
    return c


def _without_parent_identity(col: Column, parent: tuple[str, str] | None, schema: Schema) -> Column:
    """A partition's column as it is apart from its parent: PostgreSQL 17+ gives a partition its
    parent's identity on ATTACH and takes it away on DETACH (and the attach refuses one of its own)."""
    table = schema.objects.get(("table", *parent)) if parent else None
    inherited = table.column(col.name) if isinstance(table, Table) else None
    return replace(col, identity="", identity_options=None) if inherited is not None and inherited.identity else col


def _recursed(old: Table, new: Table, col: Column, ctx: Context) -> tuple[Column, list[Key]]:
    """A child's column as its parents' own ALTER COLUMNs leave it: ALTER TABLE recurses to
    inheritance children and partitions (a type, a default, NOT NULL), and an inherited column cannot
    be retyped on its own. Returns it with the parents' default keys, whose change the child's own
    default (one of its own, unlike the parent's) must follow."""
    after: list[Key] = []
    for old_parent, new_parent in _kept_parents(old, new, ctx):
        before, now = old_parent.column(col.name), new_parent.column(col.name)
        if before is None or now is None:
            continue
        if (before.type, before.collation) != (now.type, now.collation):
            col = replace(col, type=now.type, collation=now.collation)
        if before.default != now.default and not now.identity and not now.generated:
            col = replace(col, default=now.default)
            after.append(new_parent.default_key(col.name))
        if before.not_null != now.not_null:
            col = replace(col, not_null=now.not_null, not_null_name=None)
            after.append(_not_null_key(new_parent, col.name))
        target = new.column(col.name)
        if new.parent and target is not None and (before.identity, before.identity_options) != (
                now.identity, now.identity_options) and ctx.server_version >= 170000:
            col = replace(col, identity=target.identity, identity_options=target.identity_options)  # 17+: recursed
    return col, after


def _parent_adds(table: Table, column: str, ctx: Context) -> bool:
    for parent in table.inherits:
        old_parent, new_parent = (s.objects.get(("table", *parent)) for s in (ctx.source, ctx.target))
        if isinstance(new_parent, Table) and new_parent.column(column) is not None and (
                not isinstance(old_parent, Table) or old_parent.column(column) is None):
            return True
    return False


def _parent_drops(table: Table, column: str, ctx: Context) -> bool:
    for parent in table.inherits:
        new_parent = ctx.target.objects.get(("table", *parent))
        if isinstance(new_parent, Table) and new_parent.column(column) is None:
            return True
    return False


def _as_detached(old: Table, new: Table, ctx: Context) -> Table:
    """A detached partition, or a child that no longer inherits, keeps the NOT NULL constraints it
    only had from its parent under the parent's names (a column of its own keeps its own)."""
    left = [p for p in (old.parent, *old.inherits) if p and p not in (new.parent, *new.inherits)]
    parents = [t for t in (ctx.source.objects.get(("table", *p)) for p in left) if isinstance(t, Table)]
    if not parents:
        return old
    columns = []
    for c in old.columns:
        inherited = next((p.column(c.name) for p in parents if p.column(c.name) is not None), None)
        if c.not_null and c.not_null_name is None and (old.parent or not c.local) and inherited is not None \
                and inherited.not_null:
            c = replace(c, not_null_name=inherited.not_null_name)
        columns.append(c)
    return replace(old, columns=tuple(columns))


def _attach(old: Table | None, new: Table, ctx: Context) -> list[Statement]:
    """ATTACH PARTITION once both tables have their final shape: after columns only one side has are
    dropped, after the child's own changes (a NOT NULL constraint renamed while it is still its own)
    and after the indexes and constraints it brings, which the parent then adopts by name."""
    if not new.parent or (old is not None and (old.parent, old.partition_bound) == (new.parent, new.partition_bound)):
        return []
    gone = [k for t in (old, ctx.source.objects.get(("table", *new.parent))) if isinstance(t, Table)
            for k in (t.column_key(c.name) for c in t.columns)]
    own = ctx.target.attachments_on(new.schema, new.name)
    sql = f"ALTER TABLE {qualified(*new.parent)} ATTACH PARTITION {_table_name(new)} {new.partition_bound}"
    return [alter(sql, new.key, ctx, phase="column", requires=[("table", *new.parent), *own], after_drop=gone,
                  creates=[_partition_key(new)])]


def _options(old: Table, new: Table, ctx: Context) -> list[Statement]:
    old_opts = dict(o.split("=", 1) for o in old.options)
    new_opts = dict(o.split("=", 1) for o in new.options)
    out: list[Statement] = []
    changed = [f"{k}={v}" for k, v in new_opts.items() if old_opts.get(k) != v]
    removed = [k for k in old_opts if k not in new_opts]
    if removed:
        out.append(alter(f"ALTER TABLE {_table_name(new)} RESET ({', '.join(removed)})", new.key, ctx, phase="table"))
    if changed:
        out.append(alter(f"ALTER TABLE {_table_name(new)} SET ({', '.join(changed)})", new.key, ctx, phase="table"))
    return out


def _parents(old: Table, new: Table, ctx: Context) -> list[Statement]:
    name = _table_name(new)
    out: list[Statement] = []
    if old.parent and (old.parent, old.partition_bound) != (new.parent, new.partition_bound):
        out.append(alter(f"ALTER TABLE {qualified(*old.parent)} DETACH PARTITION {name}", new.key, ctx,
                         phase="table", releases=[("table", *old.parent)], drops=[_partition_key(old)]))
    for p in old.inherits:
        if p not in new.inherits:
            out.append(alter(f"ALTER TABLE {name} NO INHERIT {qualified(*p)}", new.key, ctx, phase="table",
                             releases=[("table", *p)]))
    for p in new.inherits:
        if p not in old.inherits:
            out.append(alter(f"ALTER TABLE {name} INHERIT {qualified(*p)}", new.key, ctx, phase="table",
                             requires=[("table", *p)]))
    return out


def _alter_column(t: Table, old: Column, new: Column, ctx: Context, after: list[Key] | None = None) -> list[Statement]:
    """ALTER COLUMN steps in the order PostgreSQL accepts them; a default set after the parents'
    defaults in `after` change (they recurse to this table)."""
    key, expr = t.column_key(new.name), t.default_key(new.name)
    table, col = _table_name(t), ident(new.name)
    prefix = f"ALTER TABLE {table} ALTER COLUMN {col}"
    old_deps, new_deps = ctx.source.dependencies(key), ctx.target.dependencies(key)  # its type
    old_expr = ctx.source.dependencies(expr) if old.default is not None or old.generated else frozenset()
    new_expr = ctx.target.dependencies(expr)  # what its default or generation expression reads
    out: list[Statement] = []

    def add(sql: str, **kw: object) -> None:
        out.append(alter(sql, key, ctx, phase="column", **kw))  # type: ignore[arg-type]

    def recreate(why: str) -> list[Statement]:
        """Drop the column and add it again: the only way when no ALTER COLUMN can get there."""
        add(f"ALTER TABLE {table} DROP COLUMN {col}", releases=old_deps | old_expr, drops=[key, expr],
            destructive=True, why=why)
        add(f"ALTER TABLE {table} ADD COLUMN {column_definition(new, t.name)}", creates=[key, expr],
            requires=new_deps | new_expr)
        return out + _column_extras(t, None, new, ctx)

    if old.generated != new.generated or old.generated_kind != new.generated_kind:
        if old.generated and new.generated and old.generated_kind == new.generated_kind and ctx.server_version >= 170000:
            add(f"{prefix} SET EXPRESSION AS ({new.generated})", requires=new_expr, releases=old_expr,
                creates=[expr])
        elif old.generated and not new.generated and old.generated_kind == "s":
            add(f"{prefix} DROP EXPRESSION", releases=old_expr, drops=[expr])
            old = replace(old, generated=None, generated_kind="")
        else:  # no ALTER for this
            return recreate(f"recreates column {t.name}.{new.name}; its data is lost")
    if no_conversion(t, old, new, ctx):
        return recreate(f"no cast from {old.type} to {new.type}: column {t.name}.{new.name} is dropped and "
                        "added again; its data is lost")
    retype = (old.type, old.collation) != (new.type, new.collation)
    drop_default = old.default is not None and (retype or new.default is None or old.identity != new.identity)
    if drop_default and (old.default != new.default or retype):
        add(f"{prefix} DROP DEFAULT", releases=old_expr, drops=[expr])
    if old.identity and not new.identity:
        add(f"{prefix} DROP IDENTITY", drops=identity_keys(t, old))
    if retype:
        collate = f" COLLATE {new.collation}" if new.collation else ""
        lossless = lossless_type_change(old.type, new.type)
        via = "::text" if _enum_typed(old_deps, ctx.source) or _enum_typed(new_deps, ctx.target) else ""
        via += "[]" if via and new.type.endswith("[]") else ""
        add(f"{prefix} TYPE {new.type}{collate} USING {col}{via}::{new.type}", requires=new_deps, releases=old_deps,
            destructive=not lossless, why=f"changes {t.name}.{new.name} from {old.type} to {new.type}, which may lose data")
    if new.not_null and not old.not_null:
        named = _not_null(t.name, new)
        add(f"ALTER TABLE {table} ADD {named} {col}" if named != "NOT NULL" else f"{prefix} SET NOT NULL",
            after_drop=after or ())  # after a parent's DROP NOT NULL, which recurses
    elif new.not_null and old.not_null_name and new.not_null_name and old.not_null_name != new.not_null_name:
        add(f"ALTER TABLE {table} RENAME CONSTRAINT {ident(old.not_null_name)} TO {ident(new.not_null_name)}")
    if new.default is not None and (new.default != old.default or drop_default):
        add(f"{prefix} SET DEFAULT {new.default}", requires=new_expr | frozenset(after or ()), releases=old_expr,
            creates=[expr], after_drop=after or ())
    if new.identity and not old.identity:
        how = "ALWAYS" if new.identity == "a" else "BY DEFAULT"
        opts = f" ({sequence_options(new.identity_options, with_type=False)})" if new.identity_options else ""
        add(f"{prefix} ADD GENERATED {how} AS IDENTITY{opts}", creates=identity_keys(t, new))
    elif new.identity and old.identity:
        if new.identity != old.identity:
            add(f"{prefix} SET GENERATED {'ALWAYS' if new.identity == 'a' else 'BY DEFAULT'}")
        if new.identity_options and new.identity_options != old.identity_options:
            restart = _restart(old.identity_options, new.identity_options)
            add(f"{prefix} {_identity_option_changes(old.identity_options, new.identity_options)}"
                + (" RESTART" if restart else ""), destructive=restart,
                why=f"restarts the identity of {t.name}.{new.name}: values it gave out may be given again")
    if old.not_null and not new.not_null:
        add(f"{prefix} DROP NOT NULL", drops=[_not_null_key(t, new.name)])
    return out + _column_extras(t, old, new, ctx)


def no_conversion(t: Table, old: Column, new: Column, ctx: Context) -> bool:
    """Whether the column's type changes with no conversion to write: it is dropped and added again."""
    key = t.column_key(new.name)
    return old.type != new.type and not _convertible(
        old.type, new.type, ctx.source.dependencies(key), ctx.target.dependencies(key), ctx)


def _convertible(old: str, new: str, old_deps: frozenset[Key], new_deps: frozenset[Key], ctx: Context) -> bool:
    """Whether `ALTER COLUMN … TYPE new USING col::new` can run, by the casts both servers know
    (enums go through text, which converts to anything)."""
    if _enum_typed(old_deps, ctx.source) or _enum_typed(new_deps, ctx.target):
        return True
    domains = {}
    for schema in (ctx.source, ctx.target):
        for obj in schema.objects.values():
            if isinstance(obj, Domain):
                domains[f"{obj.schema}.{obj.name}"] = domains[qualified(obj.schema, obj.name)] = obj.base_type
    return castable(old, new, ctx.source.casts | ctx.target.casts, domains)


def _not_null_key(t: Table, column: str) -> Key:
    """Stands for a column's NOT NULL: a child's own must be set after its parent's is dropped."""
    return ("not_null", t.schema, t.name, column)


def _enum_typed(deps: frozenset[Key], schema: Schema) -> bool:
    """Enums cast only to and from text: such a column is converted through text."""
    return any(isinstance(schema.objects.get(k), EnumType) for k in deps)


def _restart(old: IdentityOptions | None, new: IdentityOptions) -> bool:
    """New bounds that exclude where the sequence started: it can only be moved by a RESTART."""
    return old is not None and not new.minvalue <= old.start <= new.maxvalue


def _identity_option_changes(old: IdentityOptions | None, new: IdentityOptions) -> str:
    return " ".join("SET " + part for part in sequence_option_list(new, with_type=False))


# Constraints -------------------------------------------------------------------------------------


def _attach_index(parent_index: tuple[str, str], child_index: tuple[str, str], parent: Key, child: Key,
                  table: tuple[str, str], ctx: Context) -> Statement:
    """ALTER INDEX … ATTACH PARTITION: a no-op when PostgreSQL already attached it (ATTACH PARTITION
    or the parent's CREATE INDEX adopt matching indexes), needed when the parent index came first."""
    sql = f"ALTER INDEX {qualified(*parent_index)} ATTACH PARTITION {qualified(*child_index)}"
    return alter(sql, child, ctx, phase="index", requires=[parent, ("partition", *table)])


@renders(CREATE, Constraint)
def create_constraint(c: Constraint, ctx: Context) -> list[Statement]:
    sql = f"ALTER TABLE {qualified(c.schema, c.table)} ADD CONSTRAINT {ident(c.name)} {c.definition}"
    persistence = [("persistence", *k) for k in {(c.schema, c.table), *_referenced_tables(c, ctx.target)}] \
        if c.type == "f" else []  # a key between tables whose persistence changes waits for both
    out = [create(sql, c, ctx, phase="foreign_key" if c.type == "f" else "constraint",
                  also_requires=[*ctx.target.attached_to(c.key), *persistence])]  # the partitions' own first: adopted
    if c.parent:  # an index-backed constraint's index is named after it
        out.append(_attach_index((c.parent[0], c.parent[2]), (c.schema, c.name), ("constraint", *c.parent), c.key,
                                 (c.schema, c.table), ctx))
    elif c.index_parent and c.index_parent_key:
        out.append(_attach_index(c.index_parent, (c.schema, c.name), c.index_parent_key, c.key, (c.schema, c.table), ctx))
    return out + annotate(None, c, ctx)


@renders(DROP, Constraint)
def drop_constraint(c: Constraint, ctx: Context) -> list[Statement]:
    sql = f"ALTER TABLE {qualified(c.schema, c.table)} DROP CONSTRAINT {ident(c.name)}"
    return [drop(sql, c, ctx, destructive=False)]


@renders(ALTER, Constraint)
def alter_constraint(old: Constraint, new: Constraint, ctx: Context) -> list[Statement]:
    out: list[Statement] = []
    if old.definition != new.definition:  # only NOT VALID → valid reaches here (see can_alter)
        sql = f"ALTER TABLE {qualified(new.schema, new.table)} VALIDATE CONSTRAINT {ident(new.name)}"
        out.append(alter(sql, new.key, ctx, phase="constraint"))
    if new.index_parent and new.index_parent_key and old.index_parent is None:  # see can_alter: never detached
        out.append(_attach_index(new.index_parent, (new.schema, new.name), new.index_parent_key, new.key,
                                 (new.schema, new.table), ctx))
    return out + annotate(old, new, ctx)


@renders(RENAME, Constraint)
def rename_constraint(old: Constraint, new: Constraint, ctx: Context) -> list[Statement]:
    sql = f"ALTER TABLE {qualified(new.schema, new.table)} RENAME CONSTRAINT {ident(old.name)} TO {ident(new.name)}"
    return [alter(sql, new.key, ctx, phase="constraint", drops=[old.key], creates=[new.key])] + annotate(old, new, ctx)


# Indexes -----------------------------------------------------------------------------------------


def _attached_everywhere(i: Index, table: Table, ctx: Context) -> bool:
    """Whether every partition has an index attached to `i` in the target. One that has none
    leaves `i` ON ONLY (invalid) there, as created by pg_dump before its ALTER INDEX … ATTACH."""
    tables = set()
    for k in ctx.target.attached_to(i.key):
        child = ctx.target.objects.get(k)
        tables.add((child.schema, child.table) if isinstance(child, Index | Constraint) else None)
    return all((c.schema, c.name) in tables for c in ctx.target.children_of(table.schema, table.name))


@renders(CREATE, Index)
def create_index(i: Index, ctx: Context) -> list[Statement]:
    table = ctx.target.objects.get(("table", i.schema, i.table))
    sql = i.definition
    if isinstance(table, Table) and table.partitioned and _attached_everywhere(i, table, ctx):
        sql = sql.replace(" ON ONLY ", " ON ", 1)  # build it on every partition too
    out = [create(sql, i, ctx, also_requires=ctx.target.attached_to(i.key))]  # the partitions' own first
    if i.parent and i.parent_key:
        out.append(_attach_index(i.parent, (i.schema, i.name), i.parent_key, i.key, (i.schema, i.table), ctx))
    if i.clustered:
        out.append(alter(f"ALTER TABLE {qualified(i.schema, i.table)} CLUSTER ON {ident(i.name)}", i.key, ctx,
                         phase="index"))
    return out + annotate(None, i, ctx)


@renders(DROP, Index)
def drop_index(i: Index, ctx: Context) -> list[Statement]:
    """CASCADE only when partitions' constraints hold it (`Constraint.index_parent`): the server takes
    them with it then and refuses otherwise; the plan adds them back, and what reads them was
    dropped before (each is the plan's own drop, so CASCADE reaches nothing else)."""
    held = any(k[0] == "constraint" for k in ctx.source.attached_to(i.key))
    return [drop(f"DROP INDEX {qualified(i.schema, i.name)}{' CASCADE' if held else ''}", i, ctx, destructive=False)]


@renders(ALTER, Index)
def alter_index(old: Index, new: Index, ctx: Context) -> list[Statement]:
    out: list[Statement] = []
    if new.parent and new.parent_key and old.parent != new.parent:
        out.append(_attach_index(new.parent, (new.schema, new.name), new.parent_key, new.key,
                                 (new.schema, new.table), ctx))
    if old.clustered != new.clustered:
        table = qualified(new.schema, new.table)
        sql = f"ALTER TABLE {table} CLUSTER ON {ident(new.name)}" if new.clustered else f"ALTER TABLE {table} SET WITHOUT CLUSTER"
        out.append(alter(sql, new.key, ctx, phase="index"))
    return out + annotate(old, new, ctx)


@renders(RENAME, Index)
def rename_index(old: Index, new: Index, ctx: Context) -> list[Statement]:
    sql = f"ALTER INDEX {qualified(old.schema, old.name)} RENAME TO {ident(new.name)}"
    return [alter(sql, new.key, ctx, phase="index", drops=[old.key], creates=[new.key])] + annotate(old, new, ctx)


# Sequences ---------------------------------------------------------------------------------------


def _owned_by(s: Sequence, ctx: Context, old: Sequence | None) -> list[Statement]:
    if old is not None and old.owned_by == s.owned_by:
        return []
    owner = f"{qualified(s.owned_by[0], s.owned_by[1])}.{ident(s.owned_by[2])}" if s.owned_by else "NONE"
    requires = [("column", *s.owned_by)] if s.owned_by else []
    releases = [("column", *old.owned_by)] if old is not None and old.owned_by else []
    return [alter(f"ALTER SEQUENCE {qualified(s.schema, s.name)} OWNED BY {owner}", s.key, ctx, phase="owned_by",
                  requires=requires, releases=releases)]


@renders(CREATE, Sequence)
def create_sequence(s: Sequence, ctx: Context) -> list[Statement]:
    sql = f"CREATE {'UNLOGGED ' if s.unlogged else ''}SEQUENCE {qualified(s.schema, s.name)} {sequence_options(s.options)}"
    return [create(sql, s, ctx)] + _owned_by(s, ctx, None) + annotate(None, s, ctx)


@renders(DROP, Sequence)
def drop_sequence(s: Sequence, ctx: Context) -> list[Statement]:
    return [drop(f"DROP SEQUENCE {qualified(s.schema, s.name)}", s, ctx)]


@renders(ALTER, Sequence)
def alter_sequence(old: Sequence, new: Sequence, ctx: Context) -> list[Statement]:
    name = qualified(new.schema, new.name)
    out: list[Statement] = []
    if old.options != new.options:
        restart = _restart(old.options, new.options)
        out.append(alter(f"ALTER SEQUENCE {name} {sequence_options(new.options)}" + (" RESTART" if restart else ""),
                         new.key, ctx, phase="sequence", destructive=restart,
                         why=f"restarts sequence {new.name}: values it gave out may be given again"))
    if old.unlogged != new.unlogged:
        out.append(alter(f"ALTER SEQUENCE {name} SET {'UNLOGGED' if new.unlogged else 'LOGGED'}", new.key, ctx,
                         phase="sequence"))
    return out + _owned_by(new, ctx, old) + annotate(old, new, ctx)
