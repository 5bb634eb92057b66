"""DDL for views, functions, triggers, policies, rules, statistics, publications, default privileges.

Their text is PostgreSQL's own (`pg_get_viewdef`, `pg_get_functiondef`, ...), never reformatted: a
body change alone is one `CREATE OR REPLACE`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ...model import (
    DefaultPrivilege,
    Key,
    Schema,
    EventTrigger,
    Function,
    Policy,
    Publication,
    Rule,
    Statistics,
    Trigger,
    View,
)
from ...plan import Statement
from .render_core import (
    ALTER,
    CREATE,
    DROP,
    Context,
    alter,
    annotate,
    comment_statements,
    create,
    drop,
    grant_statements,
    grant_target,
    renders,
    target,
)
from .sqltext import ident, literal, qualified

_ROUTINE_WORD = {"f": "FUNCTION", "w": "FUNCTION", "p": "PROCEDURE", "a": "AGGREGATE"}


@target.register
def _(obj: View) -> str:
    return f"{'MATERIALIZED VIEW' if obj.materialized else 'VIEW'} {qualified(obj.schema, obj.name)}"


@grant_target.register
def _(obj: View) -> str:
    return f"TABLE {qualified(obj.schema, obj.name)}"


@grant_target.register
def _(obj: Function) -> str:
    return f"ROUTINE {qualified(obj.schema, obj.name)}({obj.identity_args})"


@target.register
def _(obj: Function) -> str:
    return f"{_ROUTINE_WORD[obj.prokind]} {qualified(obj.schema, obj.name)}({obj.identity_args})"


@target.register
def _(obj: Trigger) -> str:
    return f"TRIGGER {ident(obj.name)} ON {qualified(obj.schema, obj.table)}"


@target.register
def _(obj: Policy) -> str:
    return f"POLICY {ident(obj.name)} ON {qualified(obj.schema, obj.table)}"


@target.register
def _(obj: Rule) -> str:
    return f"RULE {ident(obj.name)} ON {qualified(obj.schema, obj.table)}"


@target.register
def _(obj: EventTrigger) -> str:
    return f"EVENT TRIGGER {ident(obj.name)}"


@target.register
def _(obj: Statistics) -> str:
    return f"STATISTICS {qualified(obj.schema, obj.name)}"


@target.register
def _(obj: Publication) -> str:
    return f"PUBLICATION {ident(obj.name)}"


# Views -------------------------------------------------------------------------------------------


def _view_sql(v: View, replace: bool = False) -> str:
    body = v.definition.strip().rstrip(";")
    opts = f" WITH ({', '.join(v.options)})" if v.options else ""
    if v.materialized:
        data = "" if v.populated else " WITH NO DATA"
        return f"CREATE MATERIALIZED VIEW {qualified(v.schema, v.name)}{opts} AS\n{body}{data}"
    return f"CREATE {'OR REPLACE ' if replace else ''}VIEW {qualified(v.schema, v.name)}{opts} AS\n{body}"


def _view_extras(old: View | None, new: View, ctx: Context) -> list[Statement]:
    out: list[Statement] = []
    name = qualified(new.schema, new.name)
    old_comments = dict(old.column_comments) if old else {}
    new_comments = dict(new.column_comments)
    for col in sorted(set(old_comments) | set(new_comments)):
        if old_comments.get(col) != new_comments.get(col):
            value = literal(new_comments[col]) if col in new_comments else "NULL"
            out.append(alter(f"COMMENT ON COLUMN {name}.{ident(col)} IS {value}", new.key, ctx, phase="comment"))
    old_acls = dict(old.column_acls) if old else {}
    new_acls = dict(new.column_acls)
    for col in sorted(set(old_acls) | set(new_acls)):
        out += grant_statements(old_acls.get(col, frozenset()), new_acls.get(col, frozenset()),
                                f"TABLE {name}", new.key, ctx, columns=f" ({ident(col)})")
    return out


@renders(CREATE, View)
def create_view(v: View, ctx: Context) -> list[Statement]:
    return [create(_view_sql(v), v, ctx)] + _view_extras(None, v, ctx) + annotate(None, v, ctx)


@renders(DROP, View)
def drop_view(v: View, ctx: Context) -> list[Statement]:
    word = "MATERIALIZED VIEW" if v.materialized else "VIEW"
    return [drop(f"DROP {word} {qualified(v.schema, v.name)}", v, ctx, destructive=False)]


@renders(ALTER, View)
def alter_view(old: View, new: View, ctx: Context) -> list[Statement]:
    out: list[Statement] = []
    if old.definition != new.definition or old.columns != new.columns:
        out.append(alter(_view_sql(new, replace=True), new.key, ctx, phase="view",
                         requires=ctx.target.dependencies(new.key) | (body_relations(new, ctx.target) or set()),
                         releases=ctx.source.dependencies(new.key)))
    elif old.options != new.options:
        old_keys = {o.split("=", 1)[0] for o in old.options} - {o.split("=", 1)[0] for o in new.options}
        name = ("MATERIALIZED VIEW " if new.materialized else "VIEW ") + qualified(new.schema, new.name)
        if old_keys:
            out.append(alter(f"ALTER {name} RESET ({', '.join(sorted(old_keys))})", new.key, ctx, phase="view"))
        if new.options:
            out.append(alter(f"ALTER {name} SET ({', '.join(new.options)})", new.key, ctx, phase="view"))
    return out + _view_extras(old, new, ctx) + annotate(old, new, ctx)


# Functions ---------------------------------------------------------------------------------------


@renders(CREATE, Function)
def create_function(f: Function, ctx: Context) -> list[Statement]:
    reads = body_relations(f, ctx.target)
    phase = "opaque_function" if reads is None else None
    return [create(f.definition.strip(), f, ctx, also_requires=reads or (), phase=phase)] + annotate(None, f, ctx)


def body_relations(f: Function, schema: Schema) -> frozenset[Key] | None:
    """The tables and views a non-atomic SQL body names: PostgreSQL parses it at CREATE
    (`check_function_bodies`) but records no pg_depend edge for it, so the plan must order by it.
    Unqualified names are looked up in the function's schema and `public`, as a default search path.
    None where the body cannot be read (PL/pgSQL, other languages): such a function goes after the
    plan's relations unless something needs it sooner (a tie-break, so it never makes a cycle)."""
    if not isinstance(f, Function) or f.prokind not in ("f", "p"):
        return frozenset()
    if "LANGUAGE sql" not in f.definition:
        return None
    import pglast.parser  # only for SQL-language functions

    try:
        stmt = json.loads(pglast.parser.parse_sql_json(f.definition))["stmts"][0]["stmt"]["CreateFunctionStmt"]
        body = next(o["DefElem"]["arg"]["List"]["items"][0]["String"]["sval"] for o in stmt.get("options", ())
                    if o["DefElem"]["defname"] == "as")
        tree = json.loads(pglast.parser.parse_sql_json(body))
    except (pglast.parser.ParseError, KeyError, IndexError, StopIteration):
        return frozenset()  # BEGIN ATOMIC (pg_depend has its edges) or a body PostgreSQL alone reads
    found = set()
    for ref in _range_vars(tree):
        schemas = [ref["schemaname"]] if "schemaname" in ref else [f.schema, "public"]
        found.update(k for s in schemas for k in (("table", s, ref["relname"]), ("view", s, ref["relname"]))
                     if k in schema.objects)
    # A table whose default or CHECK calls the function needs it first: no order serves both (api.apply
    # turns check_function_bodies off for that).
    needers = schema.dependents().get(f.key, ())
    return frozenset(found - {("table", *d[1:3]) for d in needers} - set(needers))


def _range_vars(node: Any) -> Iterator[dict[str, Any]]:
    """Every RangeVar (a relation named in FROM, INSERT INTO, UPDATE, ...) of a parse tree as JSON;
    where a field can only hold a RangeVar (INSERT's target), libpg_query leaves out its wrapper."""
    if isinstance(node, dict):
        if "relname" in node:
            yield node
        for value in node.values():
            yield from _range_vars(value)
    elif isinstance(node, list):
        for item in node:
            yield from _range_vars(item)


@renders(DROP, Function)
def drop_function(f: Function, ctx: Context) -> list[Statement]:
    sql = f"DROP {_ROUTINE_WORD[f.prokind]} {qualified(f.schema, f.name)}({f.identity_args})"
    return [drop(sql, f, ctx, destructive=False)]


@renders(ALTER, Function)
def alter_function(old: Function, new: Function, ctx: Context) -> list[Statement]:
    out: list[Statement] = []
    if old.definition != new.definition:
        out.append(alter(new.definition.strip(), new.key, ctx, phase="function",
                         requires=ctx.target.dependencies(new.key) | (body_relations(new, ctx.target) or set()),
                         releases=ctx.source.dependencies(new.key)))
    return out + annotate(old, new, ctx)


# Triggers, rules, policies -----------------------------------------------------------------------

_ENABLE = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


def _enable(table: str, what: str, name: str, state: str, key: tuple[str, ...], ctx: Context) -> Statement:
    return alter(f"ALTER TABLE {table} {_ENABLE[state]} {what} {ident(name)}", key, ctx, phase="trigger")


@renders(CREATE, Trigger)
def create_trigger(t: Trigger, ctx: Context) -> list[Statement]:
    out = [create(t.definition, t, ctx)]
    if t.enabled != "O":
        out.append(_enable(qualified(t.schema, t.table), "TRIGGER", t.name, t.enabled, t.key, ctx))
    return out + annotate(None, t, ctx)


@renders(DROP, Trigger)
def drop_trigger(t: Trigger, ctx: Context) -> list[Statement]:
    return [drop(f"DROP TRIGGER {ident(t.name)} ON {qualified(t.schema, t.table)}", t, ctx, destructive=False)]


@renders(ALTER, Trigger)
def alter_trigger(old: Trigger, new: Trigger, ctx: Context) -> list[Statement]:
    out = []
    if old.enabled != new.enabled:
        out.append(_enable(qualified(new.schema, new.table), "TRIGGER", new.name, new.enabled, new.key, ctx))
    return out + annotate(old, new, ctx)


@renders(CREATE, Rule)
def create_rule(r: Rule, ctx: Context) -> list[Statement]:
    out = [create(r.definition.strip().rstrip(";"), r, ctx)]
    if r.enabled != "O":
        out.append(_enable(qualified(r.schema, r.table), "RULE", r.name, r.enabled, r.key, ctx))
    return out + annotate(None, r, ctx)


@renders(DROP, Rule)
def drop_rule(r: Rule, ctx: Context) -> list[Statement]:
    return [drop(f"DROP RULE {ident(r.name)} ON {qualified(r.schema, r.table)}", r, ctx, destructive=False)]


@renders(ALTER, Rule)
def alter_rule(old: Rule, new: Rule, ctx: Context) -> list[Statement]:
    out = []
    if old.enabled != new.enabled:
        out.append(_enable(qualified(new.schema, new.table), "RULE", new.name, new.enabled, new.key, ctx))
    return out + annotate(old, new, ctx)


_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


def _roles(p: Policy) -> str:
    return ", ".join("PUBLIC" if r == "PUBLIC" else ident(r) for r in p.roles)


def _policy_clauses(p: Policy) -> str:
    sql = f" TO {_roles(p)}"
    if p.using is not None:
        sql += f" USING ({p.using})"
    if p.check is not None:
        sql += f" WITH CHECK ({p.check})"
    return sql


@renders(CREATE, Policy)
def create_policy(p: Policy, ctx: Context) -> list[Statement]:
    kind = "PERMISSIVE" if p.permissive else "RESTRICTIVE"
    sql = (f"CREATE POLICY {ident(p.name)} ON {qualified(p.schema, p.table)} AS {kind} FOR {_COMMANDS[p.command]}"
           + _policy_clauses(p))
    return [create(sql, p, ctx)] + annotate(None, p, ctx)


@renders(DROP, Policy)
def drop_policy(p: Policy, ctx: Context) -> list[Statement]:
    return [drop(f"DROP POLICY {ident(p.name)} ON {qualified(p.schema, p.table)}", p, ctx, destructive=False)]


@renders(ALTER, Policy)
def alter_policy(old: Policy, new: Policy, ctx: Context) -> list[Statement]:
    out = []
    if (old.roles, old.using, old.check) != (new.roles, new.using, new.check):
        out.append(alter(f"ALTER POLICY {ident(new.name)} ON {qualified(new.schema, new.table)}"
                         + _policy_clauses(new), new.key, ctx, phase="policy",
                         requires=ctx.target.dependencies(new.key) | (body_relations(new, ctx.target) or set()),
                         releases=ctx.source.dependencies(new.key)))
    return out + annotate(old, new, ctx)


# Event triggers, statistics, publications --------------------------------------------------------


@renders(CREATE, EventTrigger)
def create_event_trigger(e: EventTrigger, ctx: Context) -> list[Statement]:
    when = f" WHEN TAG IN ({', '.join(literal(t) for t in e.tags)})" if e.tags else ""
    sql = f"CREATE EVENT TRIGGER {ident(e.name)} ON {e.event}{when} EXECUTE FUNCTION {e.function}()"
    out = [create(sql, e, ctx)]
    if e.enabled != "O":
        out.append(alter(f"ALTER EVENT TRIGGER {ident(e.name)} {_ENABLE[e.enabled]}", e.key, ctx,
                         phase="event_trigger"))
    return out + annotate(None, e, ctx)


@renders(DROP, EventTrigger)
def drop_event_trigger(e: EventTrigger, ctx: Context) -> list[Statement]:
    return [drop(f"DROP EVENT TRIGGER {ident(e.name)}", e, ctx, destructive=False)]


@renders(ALTER, EventTrigger)
def alter_event_trigger(old: EventTrigger, new: EventTrigger, ctx: Context) -> list[Statement]:
    out = []
    if old.enabled != new.enabled:
        out.append(alter(f"ALTER EVENT TRIGGER {ident(new.name)} {_ENABLE[new.enabled]}", new.key, ctx,
                         phase="event_trigger"))
    return out + annotate(old, new, ctx)


@renders(CREATE, Statistics)
def create_statistics(s: Statistics, ctx: Context) -> list[Statement]:
    out = [create(s.definition, s, ctx)]
    if s.target is not None:
        out.append(alter(f"ALTER STATISTICS {qualified(s.schema, s.name)} SET STATISTICS {s.target}", s.key, ctx,
                         phase="statistics"))
    return out + annotate(None, s, ctx)


@renders(DROP, Statistics)
def drop_statistics(s: Statistics, ctx: Context) -> list[Statement]:
    return [drop(f"DROP STATISTICS {qualified(s.schema, s.name)}", s, ctx, destructive=False)]


@renders(ALTER, Statistics)
def alter_statistics(old: Statistics, new: Statistics, ctx: Context) -> list[Statement]:
    out = []
    if old.target != new.target:
        out.append(alter(f"ALTER STATISTICS {qualified(new.schema, new.name)} SET STATISTICS "
                         f"{-1 if new.target is None else new.target}", new.key, ctx, phase="statistics"))
    return out + annotate(old, new, ctx)


@renders(CREATE, Publication)
def create_publication(p: Publication, ctx: Context) -> list[Statement]:
    tables, operations, via_root = p.definition.split("|")
    target_sql = " FOR ALL TABLES" if tables == "ALL TABLES" else (f" FOR TABLE {tables}" if tables else "")
    opts = f"publish = {literal(operations.replace(',', ', '))}, publish_via_partition_root = {via_root.lower()}"
    requires = [("table", *part.replace('"', "").split(".", 1)) for part in tables.split(", ")
                if tables and tables != "ALL TABLES"]
    sql = f"CREATE PUBLICATION {ident(p.name)}{target_sql} WITH ({opts})"
    return [create(sql, p, ctx, also_requires=requires)] + annotate(None, p, ctx)


@renders(DROP, Publication)
def drop_publication(p: Publication, ctx: Context) -> list[Statement]:
    return [drop(f"DROP PUBLICATION {ident(p.name)}", p, ctx, destructive=False)]


@renders(ALTER, Publication)
def alter_publication(old: Publication, new: Publication, ctx: Context) -> list[Statement]:
    return comment_statements(old, new, ctx)


# Default privileges ------------------------------------------------------------------------------

_DEFACL_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def _default_privileges(old_acl: frozenset, d: DefaultPrivilege, ctx: Context,
                        dropping: bool = False) -> list[Statement]:
    """The GRANT/REVOKE steps; in a schema they need it to exist: after it is created, and when they
    are dropped, before it is (a schema dropped in the same plan)."""
    scope = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(d.role)}" + (
        f" IN SCHEMA {ident(d.schema)}" if d.schema else "")
    schema = [("schema", d.schema)] if d.schema else []
    statements = grant_statements(old_acl, d.grants, _DEFACL_OBJECTS[d.object_type], d.key, ctx)
    return [alter(f"{scope} {s.sql}", d.key, ctx, phase="default_privilege", requires=[] if dropping else schema,
                  releases=schema if dropping else [], creates=[d.key]) for s in statements]


@renders(CREATE, DefaultPrivilege)
def create_default_privilege(d: DefaultPrivilege, ctx: Context) -> list[Statement]:
    return _default_privileges(d.default_acl, d, ctx)


@renders(DROP, DefaultPrivilege)
def drop_default_privilege(d: DefaultPrivilege, ctx: Context) -> list[Statement]:
    return _default_privileges(d.grants, replace(d, grants=d.default_acl), ctx, dropping=True)


@renders(ALTER, DefaultPrivilege)
def alter_default_privilege(old: DefaultPrivilege, new: DefaultPrivilege, ctx: Context) -> list[Statement]:
    return _default_privileges(old.grants, new, ctx)
