"""Hypothesis strategies for random relational schemas, as pairs of SQL scripts (A, B).

A random base schema is built, then A and B are each a random mutation of it, so that the two share
most objects and differ in the ways a differ must handle: added/dropped tables and columns, type
changes within a type family, defaults, NOT NULL, identity, generated columns, PK/UNIQUE/CHECK/FK
constraints, indexes (partial, expression, unique), sequences, enums (labels added), domains and
comments. Names include capitals, spaces, quotes and non-ASCII characters.

Every choice is drawn through Hypothesis (`Choices`), so failing examples shrink.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

NAMES = [
    "id", "name", "Name", "user id", 'we"ird', "näme", "日本", "order", "select", "MixedCase", "x", "value",
    "créé", "a b c", "tab\tle", "it's", "Ünïcode", "col", "data", "t", "e-mail", "$money", "UPPER",
]

# Type families: a column's type only changes within its family (a cast that always exists).
FAMILIES: dict[str, list[str]] = {
    "int": ["smallint", "integer", "bigint"],
    "num": ["numeric", "numeric(12,2)", "real", "double precision"],
    "text": ["text", "character varying(40)", "character varying(200)"],
    "bool": ["boolean"],
    "time": ["date", "timestamp without time zone", "timestamp with time zone"],
    "uuid": ["uuid"],
    "json": ["jsonb"],
    "array": ["integer[]", "bigint[]"],
}
DEFAULTS: dict[str, list[str]] = {
    "int": ["0", "42", "-1"],
    "num": ["1.5", "0"],
    "text": ["'x'", "''", "'it''s'", "'ü'"],
    "bool": ["true", "false"],
    "time": ["CURRENT_DATE", "'2020-01-02'"],
    "uuid": ["gen_random_uuid()"],
    "json": ["'{}'::jsonb", "'[1, 2]'::jsonb"],
    "array": ["'{}'", "'{1,2}'"],
}
COMMENTS = ["a comment", "it's quoted", "ünïcödé", "multi\nline"]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Choices:
    """Random choices drawn through Hypothesis (so they shrink)."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) < p * 100

    def pick(self, options: list[Any]) -> Any:
        return options[self.draw(st.integers(0, len(options) - 1))]

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))


@dataclass
class Column:
    name: str
    family: str  # a FAMILIES key, "enum:<key>" or "domain:<key>"
    type: str
    not_null: bool = False
    default: str | None = None
    identity: str | None = None  # ALWAYS | BY DEFAULT
    generated: str | None = None  # the expression (from another integer column)
    comment: str | None = None


@dataclass
class Table:
    schema: str
    name: str
    columns: list[Column]
    pk: list[str] = field(default_factory=list)
    uniques: dict[str, list[str]] = field(default_factory=dict)  # constraint name -> columns
    checks: dict[str, str] = field(default_factory=dict)  # constraint name -> column it checks
    fks: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (column, referenced table key)
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {column, unique, partial, expr}
    comment: str | None = None

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Schema:
    schemas: list[str] = field(default_factory=lambda: ["public"])
    enums: dict[str, list[str]] = field(default_factory=dict)  # name (in public) -> labels
    domains: dict[str, int] = field(default_factory=dict)  # name (in public) -> CHECK (VALUE > n)
    sequences: dict[str, dict[str, int]] = field(default_factory=dict)  # name (in public) -> options
    tables: dict[str, Table] = field(default_factory=dict)
    # Views and functions over the tables, rendered after them; dropped when what they read goes.
    views: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # name -> (table or view, columns)
    functions: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (table key, "count"|"max"|"rows")
    counter: int = 0  # for unique generated names

    def fresh(self, base: str) -> str:
        """A relation-namespace name unique across the whole schema (indexes share it with tables)."""
        self.counter += 1
        return f"{base[:12]}_{self.counter}"


# --- building -------------------------------------------------------------------------------------


def _new_column(c: Choices, schema: Schema, table: Table) -> Column:
    taken = {col.name for col in table.columns}
    name = c.pick([n for n in NAMES if n not in taken] or [schema.fresh("c")])
    kinds = list(FAMILIES) + [f"enum:{e}" for e in schema.enums] + [f"domain:{d}" for d in schema.domains]
    family = c.pick(kinds)
    if family.startswith("enum:"):
        col = Column(name, family, "public." + ident(family[5:]))
        if c.chance(0.3):
            col.default = literal(schema.enums[family[5:]][0])
        return col
    if family.startswith("domain:"):
        return Column(name, family, "public." + ident(family[7:]))
    col = Column(name, family, c.pick(FAMILIES[family]))
    if family == "int" and c.chance(0.15) and not any(x.identity for x in table.columns):
        col.identity = c.pick(["ALWAYS", "BY DEFAULT"])
        col.not_null = True
        return col
    ints = [x for x in table.columns if x.family == "int" and not x.generated]
    if family == "int" and ints and c.chance(0.15):
        col.type = "bigint"
        col.generated = f"({ident(c.pick(ints).name)} * 2)"
        return col
    col.not_null = c.chance(0.3)
    if c.chance(0.35):
        col.default = c.pick(DEFAULTS[family])
    if c.chance(0.15):
        col.comment = c.pick(COMMENTS)
    return col


def _new_table(c: Choices, schema: Schema) -> Table:
    taken = {t.name for t in schema.tables.values()}
    name = c.pick([n for n in NAMES if n not in taken] or [schema.fresh("t")])
    table = Table(c.pick(schema.schemas), name, [])
    for _ in range(c.int(1, 5)):
        table.columns.append(_new_column(c, schema, table))
    ints = [col for col in table.columns if col.family == "int" and not col.generated]
    if ints and c.chance(0.7):
        table.pk = [c.pick(ints).name]
    if c.chance(0.2):
        table.comment = c.pick(COMMENTS)
    for _ in range(c.int(0, 2)):
        _add_index_or_constraint(c, schema, table)
    return table


def _add_index_or_constraint(c: Choices, schema: Schema, table: Table) -> None:
    plain = [col for col in table.columns if not col.family.startswith(("json", "array"))]
    if not plain:
        return
    col = c.pick(plain)
    kind = c.pick(["unique", "check", "index", "index", "fk"])
    if kind == "unique":
        table.uniques[schema.fresh(table.name + "_key")] = [col.name]
    elif kind == "check" and col.family in ("int", "text"):
        table.checks[schema.fresh(table.name + "_check")] = col.name
    elif kind == "fk" and col.family == "int":
        targets = [t for t in schema.tables.values() if t.pk and t.key != table.key]
        if targets:
            table.fks[schema.fresh(table.name + "_fkey")] = (col.name, c.pick(targets).key)
    elif kind == "index":
        table.indexes[schema.fresh(table.name + "_idx")] = {
            "column": col.name,
            "unique": c.chance(0.3),
            "partial": c.chance(0.3),
            "expr": col.family == "text" and c.chance(0.5),
        }


def _base(c: Choices) -> Schema:
    schema = Schema()
    if c.chance(0.5):
        schema.schemas.append(c.pick(["app", "Other Schema", "ß"]))
    for _ in range(c.int(0, 2)):
        schema.enums[c.pick(["mood", "Status", "färg"])] = c.pick([["a", "b"], ["sad", "ok", "happy"], ["x"]])
    if c.chance(0.4):
        schema.domains[c.pick(["positive", "Pos Int"])] = c.int(0, 3)
    for _ in range(c.int(0, 2)):
        schema.sequences[schema.fresh("seq")] = {"increment": c.pick([1, 2, 10]), "start": c.pick([1, 100])}
    for _ in range(c.int(1, 4)):
        table = _new_table(c, schema)
        schema.tables[table.key] = table
    for _ in range(c.int(0, 2)):
        _new_view(c, schema)
    for _ in range(c.int(0, 2)):
        _new_function(c, schema)
    return schema


def _readable(schema: Schema) -> dict[str, list[str]]:
    """What a view can select from: tables and views, with their column names."""
    found = {key: [col.name for col in t.columns] for key, t in schema.tables.items()}
    found.update({f"public.{name}": cols for name, (_, cols) in schema.views.items()})
    return found


def _new_view(c: Choices, schema: Schema) -> None:
    sources = _readable(schema)
    if not sources:
        return
    source = c.pick(sorted(sources))
    columns = [n for n in sources[source] if c.chance(0.6)] or sources[source][:1]
    if columns:
        schema.views[c.pick(["v", "Active View", "vüe"]) + str(len(schema.views))] = (source, columns)


def _new_function(c: Choices, schema: Schema) -> None:
    if schema.tables:
        name = f"{c.pick(['f', 'Count Of', 'zähle'])}{len(schema.functions)}"
        schema.functions[name] = (c.pick(sorted(schema.tables)), c.pick(["count", "max", "rows"]))


def _fix_derived(schema: Schema) -> None:
    """Drop views and functions whose table, view or columns no longer exist (views in creation order)."""
    for name, (source, columns) in list(schema.views.items()):
        readable = _readable(schema)
        if source not in readable or not set(columns) <= set(readable[source]) or source == f"public.{name}":
            del schema.views[name]
    schema.functions = {n: f for n, f in schema.functions.items() if f[0] in schema.tables}


# --- mutating -------------------------------------------------------------------------------------


def _drop_column(table: Table, name: str) -> None:
    table.columns = [x for x in table.columns if x.name != name]
    table.columns = [x for x in table.columns if not (x.generated and ident(name) in x.generated)]
    live = {x.name for x in table.columns}
    table.pk = [x for x in table.pk if x in live]
    table.uniques = {k: v for k, v in table.uniques.items() if set(v) <= live}
    table.checks = {k: v for k, v in table.checks.items() if v in live}
    table.fks = {k: v for k, v in table.fks.items() if v[0] in live}
    table.indexes = {k: v for k, v in table.indexes.items() if v["column"] in live}


def _drop_table(schema: Schema, key: str) -> None:
    del schema.tables[key]
    for table in schema.tables.values():
        table.fks = {k: v for k, v in table.fks.items() if v[1] != key}


def _mutate_column(c: Choices, schema: Schema, table: Table, col: Column) -> None:
    what = c.pick(["type", "not_null", "default", "comment", "identity"])
    if what == "type" and col.family in FAMILIES and not col.generated and not col.identity:
        referenced = any(fk[1] == table.key for t in schema.tables.values() for fk in t.fks.values())
        if not (col.name in table.pk and referenced):
            col.type = c.pick(FAMILIES[col.family])
            if col.family == "int" and col.type == "smallint" and col.default not in (None, "0", "42", "-1"):
                col.default = None
    elif what == "not_null" and not col.identity and col.name not in table.pk:
        col.not_null = not col.not_null
    elif what == "default" and col.family in DEFAULTS and not col.identity and not col.generated:
        col.default = None if col.default else c.pick(DEFAULTS[col.family])
    elif what == "comment":
        col.comment = None if col.comment else c.pick(COMMENTS)
    elif what == "identity" and col.family == "int" and not col.generated and not col.default:
        if col.identity:
            col.identity = None
        elif not any(x.identity for x in table.columns):
            col.identity = c.pick(["ALWAYS", "BY DEFAULT"])
            col.not_null = True


def _mutate(c: Choices, base: Schema) -> Schema:
    schema = copy.deepcopy(base)
    for _ in range(c.int(0, 4)):
        action = c.pick(["add table", "drop table", "add column", "drop column", "column", "column", "constraint",
                         "drop constraint", "enum", "sequence", "domain", "comment", "view", "function"])
        tables = list(schema.tables.values())
        table = c.pick(tables) if tables else None
        if action == "add table":
            new = _new_table(c, schema)
            schema.tables[new.key] = new
        elif action == "drop table" and table:
            _drop_table(schema, table.key)
        elif action == "add column" and table:
            col = _new_column(c, schema, table)
            if col.not_null and col.default is None and not col.identity:
                col.not_null = False  # as on a table with rows
            table.columns.append(col)
        elif action == "drop column" and table and len(table.columns) > 1:
            _drop_column(table, c.pick(table.columns).name)
        elif action == "column" and table and table.columns:
            _mutate_column(c, schema, table, c.pick(table.columns))
        elif action == "constraint" and table:
            _add_index_or_constraint(c, schema, table)
        elif action == "drop constraint" and table:
            kinds = [d for d in (table.uniques, table.checks, table.fks, table.indexes) if d]
            if kinds:
                chosen = c.pick(kinds)
                del chosen[c.pick(sorted(chosen))]
        elif action == "enum" and schema.enums:
            name = c.pick(sorted(schema.enums))
            labels = schema.enums[name]
            new = f"new{len(labels)}"
            if new not in labels:
                labels.insert(c.int(0, len(labels)), new)
        elif action == "sequence" and schema.sequences:
            options = schema.sequences[c.pick(sorted(schema.sequences))]
            options["increment"] = c.pick([1, 3, 5])
        elif action == "domain" and schema.domains:
            name = c.pick(sorted(schema.domains))
            schema.domains[name] = c.int(0, 5)
        elif action == "comment" and table:
            table.comment = None if table.comment else c.pick(COMMENTS)
        elif action == "view":
            if schema.views and c.chance(0.6):  # another column list: appended, removed or reordered
                name = c.pick(sorted(schema.views))
                source, columns = schema.views[name]
                readable = _readable(schema).get(source, [])
                schema.views[name] = (source, [n for n in readable if c.chance(0.6)] or columns)
            else:
                _new_view(c, schema)
        elif action == "function":
            if schema.functions and c.chance(0.7):  # another body, or another result type
                name = c.pick(sorted(schema.functions))
                schema.functions[name] = (schema.functions[name][0], c.pick(["count", "max", "rows"]))
            else:
                _new_function(c, schema)
    return schema


# --- rendering ------------------------------------------------------------------------------------


def render(schema: Schema) -> str:
    out: list[str] = []
    for name in schema.schemas:
        if name != "public":
            out.append(f"CREATE SCHEMA {ident(name)};")
    for name, labels in schema.enums.items():
        out.append(f"CREATE TYPE public.{ident(name)} AS ENUM ({', '.join(literal(x) for x in labels)});")
    for name, n in schema.domains.items():
        out.append(f"CREATE DOMAIN public.{ident(name)} AS integer CHECK (VALUE > {n});")
    for name, o in schema.sequences.items():
        out.append(f"CREATE SEQUENCE public.{ident(name)} INCREMENT {o['increment']} START {o['start']};")
    for t in schema.tables.values():
        qname = f"{ident(t.schema)}.{ident(t.name)}"
        lines = []
        for col in t.columns:
            line = f"{ident(col.name)} {col.type}"
            if col.generated:
                line += f" GENERATED ALWAYS AS {col.generated} STORED"
            if col.identity:
                line += f" GENERATED {col.identity} AS IDENTITY"
            if col.default:
                line += f" DEFAULT {col.default}"
            if col.not_null:
                line += " NOT NULL"
            lines.append(line)
        if t.pk:
            lines.append(f"PRIMARY KEY ({', '.join(ident(x) for x in t.pk)})")
        for name, cols in t.uniques.items():
            lines.append(f"CONSTRAINT {ident(name)} UNIQUE ({', '.join(ident(x) for x in cols)})")
        for name, colname in t.checks.items():
            col = t.column(colname)
            expr = f"length({ident(colname)}) < 1000" if col and col.family == "text" else f"{ident(colname)} > -100"
            lines.append(f"CONSTRAINT {ident(name)} CHECK ({expr})")
        out.append(f"CREATE TABLE {qname} (\n  " + ",\n  ".join(lines) + "\n);")
        if t.comment:
            out.append(f"COMMENT ON TABLE {qname} IS {literal(t.comment)};")
        for col in t.columns:
            if col.comment:
                out.append(f"COMMENT ON COLUMN {qname}.{ident(col.name)} IS {literal(col.comment)};")
        for name, ix in t.indexes.items():
            target = f"lower({ident(ix['column'])})" if ix["expr"] else ident(ix["column"])
            where = f" WHERE {ident(ix['column'])} IS NOT NULL" if ix["partial"] else ""
            unique = "UNIQUE " if ix["unique"] else ""
            out.append(f"CREATE {unique}INDEX {ident(name)} ON {qname} (({target})){where};")
    for t in schema.tables.values():
        for name, (colname, ref) in t.fks.items():
            target = schema.tables[ref]
            out.append(
                f"ALTER TABLE {ident(t.schema)}.{ident(t.name)} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
                f"({ident(colname)}) REFERENCES {ident(target.schema)}.{ident(target.name)};"
            )
    for name, (source, columns) in schema.views.items():
        schema_name, _, relation = source.partition(".")
        cols = ", ".join(ident(x) for x in columns)
        out.append(f"CREATE VIEW public.{ident(name)} AS SELECT {cols} FROM {ident(schema_name)}.{ident(relation)};")
    for name, (key, kind) in schema.functions.items():
        t = schema.tables[key]
        qname = f"{ident(t.schema)}.{ident(t.name)}"
        result, body = {
            "count": ("bigint", f"SELECT count(*) FROM {qname}"),
            "max": ("integer", f"SELECT count(*)::integer FROM {qname}"),
            "rows": (f"SETOF {qname}", f"SELECT * FROM {qname}"),
        }[kind]
        out.append(f"CREATE FUNCTION public.{ident(name)}() RETURNS {result} LANGUAGE sql STABLE AS $$ {body} $$;")
    return "\n".join(out) + "\n"


def _fix_fks(schema: Schema) -> None:
    """Keep only foreign keys whose column type matches the referenced key's family and exists."""
    for table in schema.tables.values():
        keep = {}
        for name, (colname, ref) in table.fks.items():
            target = schema.tables.get(ref)
            col = table.column(colname)
            if target and target.pk and col and col.family == "int" and not col.generated:
                ref_col = target.column(target.pk[0])
                if ref_col and ref_col.family == "int":
                    keep[name] = (colname, ref)
        table.fks = keep


@st.composite
def schema_pairs(draw: Any) -> tuple[str, str]:
    """(A, B): two SQL scripts, each a random mutation of one random base schema."""
    c = Choices(draw)
    base = _base(c)
    a, b = _mutate(c, base), _mutate(c, base)
    for s in (a, b):
        _fix_fks(s)
        _fix_derived(s)
    return render(a), render(b)
