"""What every PostgreSQL renderer shares: the registry, statement builders, COMMENT and GRANT.

A renderer is registered per (action, object class) and returns Statements that know which keys
they create, drop, require and release, so the planner can order them without fixed phases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import singledispatch
from typing import Any

from ...errors import UnsupportedChange
from ...model import Acl, DbObject, Key, Schema
from ...plan import Statement
from .sqltext import ident, literal

@dataclass(frozen=True)
class Context:
    """Both schemas, for the dependencies of what is created (target) and dropped (source)."""

    source: Schema
    target: Schema

    @property
    def server_version(self) -> int:
        return self.source.server_version or self.target.server_version


CREATE: dict[type, Callable[..., list[Statement]]] = {}
DROP: dict[type, Callable[..., list[Statement]]] = {}
ALTER: dict[type, Callable[..., list[Statement]]] = {}
RENAME: dict[type, Callable[..., list[Statement]]] = {}


def renders(table: dict[type, Callable[..., list[Statement]]], *classes: type) -> Callable[[Any], Any]:
    def register(fn: Callable[..., list[Statement]]) -> Callable[..., list[Statement]]:
        for cls in classes:
            table[cls] = fn
        return fn

    return register


def lookup(table: dict[type, Callable[..., list[Statement]]], obj: DbObject, action: str) -> Callable[..., list[Statement]]:
    fn = table.get(type(obj))
    if fn is None:
        raise UnsupportedChange(f"cannot {action} {obj.kind} {'.'.join(obj.key[1:])}")
    return fn


# Phases only break ties between statements the dependency graph leaves free: readable output.
PHASE = {
    "drop": 10, "schema": 20, "extension": 21, "collation": 22, "text_search_dictionary": 22,
    "text_search_configuration": 22, "type": 23, "sequence": 25,
    "function": 28, "table": 30, "column": 35, "constraint": 40, "foreign_key": 45, "index": 42,
    "view": 50, "opaque_function": 52, "trigger": 55, "policy": 56, "rule": 56, "statistics": 57, "publication": 58,
    "event_trigger": 59, "default_privilege": 60, "owned_by": 61, "comment": 70, "grant": 71,
}


def create(sql: str, obj: DbObject, ctx: Context, *, also: Iterable[Key] = (), phase: str | None = None,
           transactional: bool = True, also_requires: Iterable[Key] = ()) -> Statement:
    keys = {obj.key, *also}
    return Statement(sql, "create", obj.key, creates=frozenset(keys),
                     requires=ctx.target.dependencies_of(keys) | frozenset(also_requires),
                     phase=PHASE[phase or obj.kind], transactional=transactional)


def drop(sql: str, obj: DbObject, ctx: Context, *, also: Iterable[Key] = (), destructive: bool = True,
         why: str = "") -> Statement:
    keys = {obj.key, *also}
    return Statement(sql, "drop", obj.key, drops=frozenset(keys), releases=ctx.source.dependencies_of(keys),
                     destructive=destructive, why=why or f"drops {obj.kind} {'.'.join(obj.key[1:])}",
                     phase=PHASE["drop"])


def alter(sql: str, key: Key, ctx: Context, *, phase: str, requires: Iterable[Key] = (),
          releases: Iterable[Key] = (), creates: Iterable[Key] = (), drops: Iterable[Key] = (),
          destructive: bool = False, why: str = "", transactional: bool = True,
          after_drop: Iterable[Key] = ()) -> Statement:
    creates, drops = frozenset(creates), frozenset(drops)
    exists = frozenset() if key in creates | drops else {key}  # it needs its own object, unless it makes it
    return Statement(sql, "alter", key, creates=creates, drops=drops,
                     requires=(frozenset(requires) | exists) - creates, releases=frozenset(releases) - creates,
                     destructive=destructive, why=why, phase=PHASE[phase], transactional=transactional,
                     after_drop=frozenset(after_drop))


@singledispatch
def target(obj: DbObject) -> str:
    """How COMMENT ON and GRANT name an object: `TABLE "s"."t"`, `FUNCTION "s"."f"(integer)`, ..."""
    raise UnsupportedChange(f"no way to name {obj.kind} {obj.key}")


def comment_statements(old: DbObject | None, new: DbObject, ctx: Context, name: str | None = None,
                       key: Key | None = None) -> list[Statement]:
    before = old.comment if old is not None else None
    if before == new.comment:
        return []
    value = "NULL" if new.comment is None else literal(new.comment)
    return [alter(f"COMMENT ON {name or target(new)} IS {value}", key or new.key, ctx, phase="comment")]


def grant_statements(before: Acl, after: Acl, on: str, key: Key, ctx: Context,
                     columns: str = "") -> list[Statement]:
    """GRANT what `after` adds and REVOKE what it takes away, one statement per grantee."""
    statements: list[Statement] = []
    for verb, grants, prep in (("REVOKE", before - after, "FROM"), ("GRANT", after - before, "TO")):
        by_grantee: dict[tuple[str, bool], list[str]] = {}
        for g in sorted(grants):
            grantable = g.grantable and verb == "GRANT"
            by_grantee.setdefault((g.grantee, grantable), []).append(g.privilege)
        for (grantee, grantable), privileges in by_grantee.items():
            who = "PUBLIC" if grantee == "PUBLIC" else ident(grantee)
            privs = ", ".join(f"{p}{columns}" for p in sorted(set(privileges)))
            sql = f"{verb} {privs} ON {on} {prep} {who}" + (" WITH GRANT OPTION" if grantable else "")
            statements.append(replace(alter(sql, key, ctx, phase="grant"), kind="grant"))
    return statements


def annotate(old: DbObject | None, new: DbObject, ctx: Context) -> list[Statement]:
    """COMMENT and GRANT/REVOKE statements that take `old` (or a fresh object) to `new`."""
    before = old.acl if old is not None else new.default_acl
    statements = comment_statements(old, new, ctx)
    if before != new.acl:  # most objects keep the privileges they are created with
        statements += grant_statements(before, new.acl, grant_target(new), new.key, ctx)
    return statements


@singledispatch
def grant_target(obj: DbObject) -> str:
    """How GRANT names an object: mostly as COMMENT does (views and sequences differ)."""
    return target(obj)

