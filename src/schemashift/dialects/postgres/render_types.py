"""DDL for schemas, extensions, collations and user-defined types (enum, domain, composite, range)."""

from __future__ import annotations

from dataclasses import replace

from ...model import Collation, CompositeType, Domain, EnumType, Extension, Namespace, RangeType, Table
from ...plan import Statement
from .render_core import ALTER, CREATE, DROP, Context, alter, annotate, create, drop, lookup, renders, target
from .sqltext import ident, literal, qualified


@target.register
def _(obj: Namespace) -> str:
    return f"SCHEMA {ident(obj.name)}"


@target.register
def _(obj: Extension) -> str:
    return f"EXTENSION {ident(obj.name)}"


@target.register
def _(obj: Collation) -> str:
    return f"COLLATION {qualified(obj.schema, obj.name)}"


@target.register(EnumType)
@target.register(CompositeType)
@target.register(RangeType)
def _(obj: EnumType | CompositeType | RangeType) -> str:
    return f"TYPE {qualified(obj.schema, obj.name)}"


@target.register
def _(obj: Domain) -> str:
    return f"DOMAIN {qualified(obj.schema, obj.name)}"


@renders(CREATE, Namespace)
def create_schema(s: Namespace, ctx: Context) -> list[Statement]:
    return [create(f"CREATE SCHEMA {ident(s.name)}", s, ctx)] + annotate(None, s, ctx)


@renders(ALTER, Namespace)
def alter_schema(old: Namespace, new: Namespace, ctx: Context) -> list[Statement]:
    """A schema differs only in what COMMENT and GRANT change (public exists before any diff)."""
    return annotate(old, new, ctx)


@renders(DROP, Namespace)
def drop_schema(s: Namespace, ctx: Context) -> list[Statement]:
    return [drop(f"DROP SCHEMA {ident(s.name)}", s, ctx)]


@renders(CREATE, Extension)
def create_extension(e: Extension, ctx: Context) -> list[Statement]:
    version = f" VERSION {literal(e.version)}" if e.version else ""
    sql = f"CREATE EXTENSION IF NOT EXISTS {ident(e.name)} WITH SCHEMA {ident(e.schema)}{version}"
    # CREATE EXTENSION already gives the control file's comment: only a different one is a statement.
    return [create(sql, e, ctx)] + annotate(replace(e, comment=e.default_comment, acl=e.default_acl), e, ctx)


@renders(DROP, Extension)
def drop_extension(e: Extension, ctx: Context) -> list[Statement]:
    return [drop(f"DROP EXTENSION {ident(e.name)}", e, ctx)]


@renders(ALTER, Extension)
def alter_extension(old: Extension, new: Extension, ctx: Context) -> list[Statement]:
    out: list[Statement] = []
    if old.schema != new.schema:
        out.append(alter(f"ALTER EXTENSION {ident(new.name)} SET SCHEMA {ident(new.schema)}", new.key, ctx,
                         phase="extension", requires=[("schema", new.schema)]))
    if old.version != new.version and new.version:
        out.append(alter(f"ALTER EXTENSION {ident(new.name)} UPDATE TO {literal(new.version)}", new.key, ctx,
                         phase="extension"))
    return out + annotate(old, new, ctx)


@renders(CREATE, Collation)
def create_collation(c: Collation, ctx: Context) -> list[Statement]:
    provider = {"i": "icu", "c": "libc", "b": "builtin", "d": "default"}[c.provider]
    opts = [f"provider = {provider}"]
    if c.locale:
        opts.append(f"locale = {literal(c.locale)}")
    else:
        opts += [f"lc_collate = {literal(c.lc_collate or '')}", f"lc_ctype = {literal(c.lc_ctype or '')}"]
    if not c.deterministic:
        opts.append("deterministic = false")
    if c.rules:
        opts.append(f"rules = {literal(c.rules)}")
    return [create(f"CREATE COLLATION {qualified(c.schema, c.name)} ({', '.join(opts)})", c, ctx)] + annotate(
        None, c, ctx)


@renders(DROP, Collation)
def drop_collation(c: Collation, ctx: Context) -> list[Statement]:
    return [drop(f"DROP COLLATION {qualified(c.schema, c.name)}", c, ctx, destructive=False)]


def _drop_type(t: EnumType | CompositeType | RangeType | Domain, ctx: Context) -> list[Statement]:
    word = "DOMAIN" if isinstance(t, Domain) else "TYPE"
    return [drop(f"DROP {word} {qualified(t.schema, t.name)}", t, ctx)]


for _cls in (EnumType, CompositeType, RangeType, Domain):
    renders(DROP, _cls)(_drop_type)


@renders(CREATE, EnumType)
def create_enum(t: EnumType, ctx: Context) -> list[Statement]:
    labels = ", ".join(literal(x) for x in t.labels)
    return [create(f"CREATE TYPE {qualified(t.schema, t.name)} AS ENUM ({labels})", t, ctx)] + annotate(None, t, ctx)


def enum_is_extended(old: EnumType, new: EnumType) -> bool:
    """New labels only: `ALTER TYPE … ADD VALUE` can do it without rebuilding the type."""
    kept = [x for x in new.labels if x in old.labels]
    return kept == list(old.labels)


@renders(ALTER, EnumType)
def alter_enum(old: EnumType, new: EnumType, ctx: Context) -> list[Statement]:
    if old.labels == new.labels:
        return annotate(old, new, ctx)
    if not enum_is_extended(old, new):
        return _rebuild_enum(old, new, ctx) + annotate(old, new, ctx)
    name = qualified(new.schema, new.name)
    out: list[Statement] = []
    first_kept = next((x for x in new.labels if x in old.labels), None)
    for i, label in enumerate(new.labels):
        if label in old.labels:
            continue
        # Added in label order, so the previous label always exists by now; the first goes before
        # the first label the type already has.
        if i:
            where = f" AFTER {literal(new.labels[i - 1])}"
        else:
            where = f" BEFORE {literal(first_kept)}" if first_kept is not None else ""
        # The new label cannot be used in the transaction that adds it: run it on its own.
        out.append(alter(f"ALTER TYPE {name} ADD VALUE {literal(label)}{where}", new.key, ctx, phase="type",
                         transactional=False))
    return out + annotate(old, new, ctx)


def _rebuild_enum(old: EnumType, new: EnumType, ctx: Context) -> list[Statement]:
    """Labels removed or reordered: rename the old type away, create the new one, cast every column."""
    removed = [x for x in old.labels if x not in new.labels]
    create_sql = f"CREATE TYPE {qualified(new.schema, new.name)} AS ENUM ({', '.join(literal(x) for x in new.labels)})"
    return _rebuild_type(old, new, [create_sql], ctx, destructive=bool(removed),
                         why=f"removes enum label(s) {', '.join(removed)} of {new.name}" if removed else "")


def _rebuild_type(old: EnumType | RangeType, new: EnumType | RangeType, creates: list[str], ctx: Context,
                  *, destructive: bool, why: str, park: bool = False) -> list[Statement]:
    """A type PostgreSQL cannot alter, under columns that keep it: rename the old type away, create
    the new one, cast every such column through text, drop the old type. With `park`, the columns
    wait as text while the old type is dropped and the new one created (a range's multirange and
    constructor functions keep their names when it is renamed). Columns whose type changes too are
    their table's to convert."""
    name = qualified(new.schema, new.name)
    stale = f"{new.name}__schemashift_old"
    before, after = [] if park else [f"ALTER TYPE {name} RENAME TO {ident(stale)}"], []
    columns = []
    carried = [k for k in ctx.source.types_over(old.key) if k in ctx.target.objects]  # see differ._carried_types
    types = {old.key, *carried}
    for key in sorted(k for k, deps in ctx.source.depends.items() if types & deps and k[0] == "column"):
        table = ctx.source.objects.get(("table", key[1], key[2]))
        target_table = ctx.target.objects.get(("table", key[1], key[2]))
        if not isinstance(table, Table) or not isinstance(target_table, Table):
            continue
        col = table.column(key[3])
        new_col = target_table.column(key[3])
        if col is None or new_col is None or not col.local or col.type != new_col.type:
            continue
        columns.append(key)
        prefix = f"ALTER TABLE {qualified(key[1], key[2])} ALTER COLUMN {ident(key[3])}"
        if col.default is not None:
            before.append(f"{prefix} DROP DEFAULT")
        via = "text[]" if col.type.endswith("[]") else "text"
        if park or old.key not in ctx.source.depends[key]:  # a carried type's column waits as text
            before.append(f"{prefix} TYPE {via} USING {ident(key[3])}::{via}")
            after.append(f"{prefix} TYPE {col.type} USING {ident(key[3])}::{col.type}")
        else:
            after.append(f"{prefix} TYPE {col.type} USING {ident(key[3])}::{via}::{col.type}")
        if new_col.default is not None:  # the target's: the table's own change leaves it to this
            after.append(f"{prefix} SET DEFAULT {new_col.default}")
    drop_old = [s.sql for k in carried[::-1] for s in _drop_type(ctx.source.objects[k], ctx)]
    drop_old += [f"DROP TYPE {name}"] if park else []
    creates = creates + [s.sql for k in carried for s in lookup(CREATE, ctx.target.objects[k], "create")(
        ctx.target.objects[k], ctx)]
    steps = before + drop_old + creates + after + ([] if park else [f"DROP TYPE {qualified(new.schema, stale)}"])
    return [alter(";\n".join(steps), new.key, ctx, phase="type", creates=[new.key, *carried, *columns],
                  drops=[new.key, *carried, *columns], destructive=destructive, why=why)]


def _domain_parts(d: Domain) -> list[str]:
    parts = [f"AS {d.base_type}"]
    if d.collation:
        parts.append(f"COLLATE {d.collation}")
    if d.default is not None:
        parts.append(f"DEFAULT {d.default}")
    if d.not_null:
        parts.append("NOT NULL")
    parts += [f"CONSTRAINT {ident(n)} {definition}" for n, definition in d.constraints]
    return parts


@renders(CREATE, Domain)
def create_domain(d: Domain, ctx: Context) -> list[Statement]:
    sql = f"CREATE DOMAIN {qualified(d.schema, d.name)} {' '.join(_domain_parts(d))}"
    return [create(sql, d, ctx)] + annotate(None, d, ctx)


@renders(ALTER, Domain)
def alter_domain(old: Domain, new: Domain, ctx: Context) -> list[Statement]:
    name = qualified(new.schema, new.name)
    out: list[Statement] = []

    def add(sql: str) -> None:
        out.append(alter(f"ALTER DOMAIN {name} {sql}", new.key, ctx, phase="type",
                         requires=ctx.target.dependencies(new.key), releases=ctx.source.dependencies(new.key)))

    if old.default != new.default:
        add("DROP DEFAULT" if new.default is None else f"SET DEFAULT {new.default}")
    if old.not_null != new.not_null:
        add("SET NOT NULL" if new.not_null else "DROP NOT NULL")
    old_cons, new_cons = dict(old.constraints), dict(new.constraints)
    for cname, definition in old.constraints:
        if new_cons.get(cname) != definition:
            add(f"DROP CONSTRAINT {ident(cname)}")
    for cname, definition in new.constraints:
        if old_cons.get(cname) != definition:
            add(f"ADD CONSTRAINT {ident(cname)} {definition}")
    return out + annotate(old, new, ctx)


def _attribute(a: tuple[str, str, str | None]) -> str:
    return f"{ident(a[0])} {a[1]}" + (f" COLLATE {a[2]}" if a[2] else "")


@renders(CREATE, CompositeType)
def create_composite(t: CompositeType, ctx: Context) -> list[Statement]:
    body = ", ".join(_attribute(a) for a in t.attributes)
    return [create(f"CREATE TYPE {qualified(t.schema, t.name)} AS ({body})", t, ctx)] + annotate(None, t, ctx)


@renders(ALTER, CompositeType)
def alter_composite(old: CompositeType, new: CompositeType, ctx: Context) -> list[Statement]:
    name = qualified(new.schema, new.name)
    before = {a[0]: a for a in old.attributes}
    after = {a[0]: a for a in new.attributes}
    actions = [f"DROP ATTRIBUTE {ident(n)}" for n in before if n not in after]
    for n, a in after.items():
        if n not in before:
            actions.append(f"ADD ATTRIBUTE {_attribute(a)}")
        elif before[n] != a:
            actions.append(f"ALTER ATTRIBUTE {ident(n)} TYPE {a[1]}" + (f" COLLATE {a[2]}" if a[2] else ""))
    out = []
    if actions:
        out.append(alter(f"ALTER TYPE {name} {', '.join(actions)}", new.key, ctx, phase="type",
                         requires=ctx.target.dependencies(new.key), releases=ctx.source.dependencies(new.key),
                         destructive=any(a.startswith(("DROP", "ALTER")) for a in actions),
                         why=f"drops or retypes attributes of {new.name}"))
    return out + annotate(old, new, ctx)


def _range_sql(t: RangeType) -> str:
    opts = [f"SUBTYPE = {t.subtype}"]
    for label, value in (("SUBTYPE_OPCLASS", t.opclass), ("COLLATION", t.collation), ("CANONICAL", t.canonical),
                         ("SUBTYPE_DIFF", t.subdiff), ("MULTIRANGE_TYPE_NAME", t.multirange)):
        if value:
            opts.append(f"{label} = {value}")
    return f"CREATE TYPE {qualified(t.schema, t.name)} AS RANGE ({', '.join(opts)})"


@renders(CREATE, RangeType)
def create_range(t: RangeType, ctx: Context) -> list[Statement]:
    return [create(_range_sql(t), t, ctx)] + annotate(None, t, ctx)


@renders(ALTER, RangeType)
def alter_range(old: RangeType, new: RangeType, ctx: Context) -> list[Statement]:
    """No ALTER changes a range's definition: rebuilt under its columns, which wait as text."""
    if replace(old, comment=None, acl=frozenset()) == replace(new, comment=None, acl=frozenset()):
        return annotate(old, new, ctx)
    return _rebuild_type(old, new, [_range_sql(new)], ctx, destructive=True, park=True,
                         why=f"rebuilds range type {new.name}; values its new subtype cannot read are lost") + annotate(
        old, new, ctx)
