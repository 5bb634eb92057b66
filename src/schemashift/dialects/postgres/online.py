"""`--online`: a PostgreSQL plan rewritten so that writers keep flowing while it runs.

The plan the renderer orders is taken statement by statement and each one that would hold a
write-blocking lock for as long as it scans or rewrites a table already holding rows is replaced
by its lock-light form, in place (the order of the plan stays valid):

- `CREATE INDEX` / `DROP INDEX` → `… CONCURRENTLY` (`IF [NOT] EXISTS`, so a resumed run repeats
  them safely), each outside a transaction; before a concurrent build the executor drops an
  INVALID index of that name left by a failed build (`clear_invalid_index`);
- a foreign key or CHECK → `ADD … NOT VALID` (a brief lock) then `VALIDATE CONSTRAINT` (a scan
  that lets writes through);
- `SET NOT NULL` → `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, then `SET NOT NULL`, which
  finds the validated CHECK and skips its scan, then the CHECK dropped;
- a primary key or unique constraint → `CREATE UNIQUE INDEX CONCURRENTLY` then
  `ADD CONSTRAINT … USING INDEX`;
- a change that rewrites the table (a type change that is not binary-coercible, SET LOGGED /
  UNLOGGED, a new identity or stored generated column) has no lock-light form: it is marked
  destructive (refused without `--unsafe`, like a drop) and carries a comment with the
  expand/contract steps to do instead.

Every remaining statement that locks an existing table is preceded by `SET LOCAL lock_timeout`,
which also makes it a transaction of its own (see `starts_transaction`): its lock is released at
its commit, and a step that hits the timeout is rolled back and retried (`with_lock_retries`).
Tables created by the plan are empty, so their statements stay as they are.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import psycopg
from pglast import parser

from ...model import Column, Constraint, Index, Key, Schema, Table
from ...online_flags import OnlineOptions
from ...plan import Plan, Statement
from .render_core import PHASE
from .sqltext import ident, qualified


LOCK_TIMEOUT_KIND = "lock_timeout"
MAX_NAME = 63  # NAMEDATALEN - 1: PostgreSQL cuts longer names, and VALIDATE must name the cut one

# Type changes PostgreSQL makes without rewriting the table (binary-coercible, typmod widening).
_NO_REWRITE = {("character varying", "text"), ("text", "character varying"), ("cidr", "inet")}
_TYPMOD = re.compile(r"^(?P<base>[a-z ]+?)(?:\((?P<mods>[\d, ]+)\))?(?P<array>(\[\])*)$")
_WIDENS = frozenset({"character varying", "bit varying", "numeric"})


def online_plan(plan: Plan, source: Schema, target: Schema, options: OnlineOptions) -> Plan:
    """The lock-light form of `plan` (from `source` to `target`); see the module docstring."""
    recreated = {k for st in plan.statements for k in st.drops if k[0] == "table"}
    tables = {k: t for k, t in source.objects.items() if isinstance(t, Table) and k not in recreated}
    form = _Form(source, target, tables, options)
    statements: list[Statement] = []
    for st in plan.statements:
        for step in form.steps(st):
            if step.transactional and form.locks_live_table(step):
                statements.append(form.lock_timeout())
            statements.append(step)
    return Plan(statements)


def starts_transaction(st: Statement) -> bool:
    """A `SET LOCAL lock_timeout` of an online plan begins a transaction of its own."""
    return st.kind == LOCK_TIMEOUT_KIND


@dataclass(frozen=True)
class _Form:
    source: Schema
    target: Schema
    live: dict[Key, Table]  # tables that exist before the plan and are not recreated by it
    options: OnlineOptions

    def lock_timeout(self) -> Statement:
        value = self.options.lock_timeout.replace("'", "''")
        return Statement(f"SET LOCAL lock_timeout = '{value}'", LOCK_TIMEOUT_KIND, ("setting", "lock_timeout"))

    def table(self, key: Key) -> Table | None:
        """The live table a statement about `key` works on (None: new, recreated, or not a table's)."""
        if key[0] == "index":
            index = self.source.objects.get(key) or self.target.objects.get(key)
            return self.live.get(("table", index.schema, index.table)) if isinstance(index, Index) else None
        if key[0] in ("table", "column", "default", "constraint", "not_null", "trigger", "policy", "rule"):
            return self.live.get(("table", key[1], key[2]))
        return None

    def locks_live_table(self, st: Statement) -> bool:
        return st.kind != "grant" and st.phase not in (PHASE["comment"], PHASE["grant"]) \
            and self.table(st.object_key) is not None

    def steps(self, st: Statement) -> list[Statement]:
        """The statement's online form: itself when it has none or needs none."""
        table = self.table(st.object_key)
        if table is None or not st.transactional or _spread(table, self.source):
            return [st]
        kind = st.object_key[0]
        if kind == "index" and st.kind in ("create", "drop"):
            return self._index(st)
        if kind == "constraint" and st.kind == "create":
            c = self.target.objects.get(st.object_key)
            if isinstance(c, Constraint) and not c.parent and st.sql.endswith(c.definition):
                return self._constraint(st, table, c)
        if kind == "column":
            return self._column(st, table)
        if kind == "table" and st.sql.endswith((" SET LOGGED", " SET UNLOGGED")):
            return [_rewrite(st, table, "changes its persistence", [
                "create the table anew with the wanted persistence and copy the rows in batches",
                "switch the application over, then drop the old table"])]
        return [st]

    def _index(self, st: Statement) -> list[Statement]:
        if st.kind == "drop":
            index = self.source.objects[st.object_key]
            assert isinstance(index, Index)
            return [replace(st, sql=f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(index.schema, index.name)}",
                            transactional=False)]
        index = self.target.objects[st.object_key]
        assert isinstance(index, Index)
        if index.parent or " ON ONLY " in st.sql or not st.sql.startswith(("CREATE INDEX ", "CREATE UNIQUE INDEX ")):
            return [st]
        sql = st.sql.replace(" INDEX ", " INDEX CONCURRENTLY IF NOT EXISTS ", 1)
        return [replace(st, sql=sql, transactional=False)]

    def _constraint(self, st: Statement, table: Table, c: Constraint) -> list[Statement]:
        name = qualified(table.schema, table.name)
        if c.type in ("f", "c") and not c.definition.endswith(" NOT VALID"):
            return [replace(st, sql=f"{st.sql} NOT VALID"), _validate(name, c.name, st)]
        if c.type in ("p", "u"):
            index = _unique_index(name, c)
            if index is not None:
                using, deferrable = index
                add = f"ALTER TABLE {name} ADD CONSTRAINT {ident(c.name)} {using} USING INDEX {ident(c.name)}"
                build = replace(st, sql=_concurrent_unique(name, c), kind="create", transactional=False,
                                creates=frozenset(), requires=st.requires)
                return [build, replace(st, sql=add + deferrable)]
        return [st]

    def _column(self, st: Statement, table: Table) -> list[Statement]:
        column = st.object_key[3]
        old, new = table.column(column), _target_column(self.target, table, column)
        if old is None or new is None:
            return [st]
        name, col = qualified(table.schema, table.name), ident(column)
        if new.not_null and not old.not_null and st.sql.endswith((f"ALTER COLUMN {col} SET NOT NULL",
                                                                   f" NOT NULL {col}")):
            check = _name(f"{table.name}_{column}", "_not_null_online")
            add = Statement(f"ALTER TABLE {name} ADD CONSTRAINT {ident(check)} CHECK ({col} IS NOT NULL) NOT VALID",
                            "alter", st.object_key, requires=st.requires, phase=st.phase)
            drop = Statement(f"ALTER TABLE {name} DROP CONSTRAINT {ident(check)}", "alter", st.object_key,
                             requires=st.requires, phase=st.phase)
            return [add, _validate(name, check, st), st, drop]
        if f"ALTER COLUMN {col} TYPE " in st.sql and _rewrites(old.type, new.type):
            return [_rewrite(st, table, f"changes {column} from {old.type} to {new.type}", [
                f"ADD COLUMN a new column of type {new.type} (instant, no default)",
                f"keep it in step with {column} by a trigger on INSERT and UPDATE",
                f"backfill it in batches: UPDATE … SET new = {col}::{new.type} WHERE <a key range>",
                "build its indexes CONCURRENTLY and its constraints NOT VALID, then VALIDATE",
                f"in one short transaction: drop the trigger, DROP COLUMN {col}, RENAME the new column to {col}"])]
        added = f"ADD COLUMN {col} "
        if added in st.sql and (new.identity or new.generated_kind == "s"):
            return [_rewrite(st, table, f"adds {column}, whose values are computed for every row", [
                f"ADD COLUMN {col} {new.type} without identity or expression (instant)",
                "fill it in batches, then make it an identity / set its default",
                ])]
        return [st]


def _spread(table: Table, schema: Schema) -> bool:
    """A partitioned table, a partition or an inheritance parent: CONCURRENTLY and NOT VALID do not
    reach them the same way on every version, so their statements are left as they are."""
    return table.partitioned or bool(table.parent or table.inherits or schema.children_of(table.schema, table.name))


def _target_column(target: Schema, table: Table, column: str) -> Column | None:
    new = target.objects.get(table.key)
    return new.column(column) if isinstance(new, Table) else None


def _validate(table: str, constraint: str, st: Statement) -> Statement:
    return Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(constraint)}", "alter", st.object_key,
                     requires=st.requires | st.creates, phase=st.phase)


def _name(base: str, suffix: str) -> str:
    """`base` + `suffix` cut to what PostgreSQL keeps of a name (in bytes)."""
    room = MAX_NAME - len(suffix.encode())
    return base.encode()[:room].decode(errors="ignore") + suffix


_KEY_DEFINITION = re.compile(
    r"^(?P<kind>PRIMARY KEY|UNIQUE(?P<nulls> NULLS NOT DISTINCT)?) \((?P<columns>[^()]*)\)"
    r"(?P<include> INCLUDE \([^()]*\))?(?P<with> WITH \([^()]*\))?(?P<deferrable>( NOT)? DEFERRABLE.*)?$")


def _unique_index(table: str, c: Constraint) -> tuple[str, str] | None:
    """(`PRIMARY KEY` or `UNIQUE`, the DEFERRABLE clause) when the constraint can take over a unique
    index built beforehand; None for one that cannot (a tablespace, WITHOUT OVERLAPS, ...)."""
    m = _KEY_DEFINITION.match(c.definition)
    if m is None or "WITHOUT OVERLAPS" in m["columns"]:
        return None
    return ("PRIMARY KEY" if m["kind"] == "PRIMARY KEY" else "UNIQUE"), m["deferrable"] or ""


def _concurrent_unique(table: str, c: Constraint) -> str:
    m = _KEY_DEFINITION.match(c.definition)
    assert m is not None
    return (f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {ident(c.name)} ON {table} USING btree ({m['columns']})"
            f"{m['include'] or ''}{m['nulls'] or ''}{m['with'] or ''}")


def _rewrites(old: str, new: str) -> bool:
    """Whether ALTER COLUMN … TYPE rewrites the table (and its indexes) under ACCESS EXCLUSIVE."""
    a, b = _TYPMOD.match(old), _TYPMOD.match(new)
    if a is None or b is None or a["array"] != b["array"]:
        return True
    if a["base"] == b["base"]:
        if a["base"] not in _WIDENS or a["mods"] is None:
            return a["mods"] != b["mods"]
        if b["mods"] is None:
            return False
        before, after = [int(m) for m in a["mods"].split(",")], [int(m) for m in b["mods"].split(",")]
        same_scale = before[1:] == after[1:]  # numeric(p, s): only the precision may grow
        return not (same_scale and after[0] >= before[0])
    return (a["base"], b["base"]) not in _NO_REWRITE or (b["mods"] is not None and b["base"] != "text")


def _rewrite(st: Statement, table: Table, what: str, steps: list[str]) -> Statement:
    """A statement with no lock-light form: refused without --unsafe, with the way round it."""
    name = qualified(table.schema, table.name)
    why = f"{what}: rewrites {name} under ACCESS EXCLUSIVE (writes wait for the whole rewrite)"
    plan = "\n".join(f"--   {n}. {step}" for n, step in enumerate(steps, 1))
    comment = f"-- ONLINE: {why}; do it by expand/contract instead:\n{plan}\n"
    return replace(st, sql=comment + st.sql, destructive=True, why=(f"{st.why}; " if st.why else "") + why)


# Running an online plan --------------------------------------------------------------------------

T = TypeVar("T")


def with_lock_retries(run: Callable[[bool], T], retries: int, first_delay: float = 0.2) -> T:
    """`run(retryable)`, again after a growing pause each time it fails on its `lock_timeout`
    (SQLSTATE 55P03: the step was rolled back, nothing of it stayed), at most `retries` more times.
    `retryable` tells `run` whether such a failure will be retried (else it reports it)."""
    for attempt in range(retries + 1):
        try:
            return run(attempt < retries)
        except psycopg.errors.LockNotAvailable:
            if attempt >= retries:
                raise
            time.sleep(first_delay * 2**attempt)
    raise AssertionError("not reached")


_INVALID_INDEX = """
select format('%%I.%%I', n.nspname, c.relname) from pg_index i
join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
where c.relname = %(index)s and not i.indisvalid
  and c.relnamespace = (select relnamespace from pg_class where oid = to_regclass(%(table)s))
"""  # the INVALID index of that name beside the table (left by a failed concurrent build)


def clear_invalid_index(conn: psycopg.Connection, sql: str) -> None:
    """Before `CREATE [UNIQUE] INDEX CONCURRENTLY name …`: drop an INVALID index of that name, which
    a failed build leaves behind and `IF NOT EXISTS` would otherwise take for the finished one."""
    if "CONCURRENTLY" not in sql.upper():
        return
    stmts = json.loads(parser.parse_sql_json(sql)).get("stmts", [])
    node = stmts[0]["stmt"].get("IndexStmt") if len(stmts) == 1 else None
    if not node or not node.get("concurrent") or not node.get("idxname"):
        return
    rel = node["relation"]
    table = ".".join(ident(p) for p in (rel.get("schemaname"), rel["relname"]) if p)
    row = conn.execute(_INVALID_INDEX, {"index": node["idxname"], "table": table}).fetchone()
    if row is not None:
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {row[0]}".encode())
