"""The inspector's catalog queries grow linearly with the schema, also on a database just loaded.

Such a database has no statistics on its catalogs, and the planner then guesses one row for most
scans; a query joined to an aggregate was once planned to run that aggregate for every relation
(10 s instead of 50 ms on GitLab's schema). Measured in rows the plans go through (returned or
filtered out, times loops), not in time: four times the schema must cost about four times the rows,
not sixteen.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from schemashift.dialects.postgres import queries as q

# Every query the inspector sends once the namespaces are known.
QUERIES = {name: getattr(q, name) for name in (
    "EXTENSIONS", "COLLATIONS", "TYPES", "RELATIONS", "COLUMNS", "SEQUENCES", "CONSTRAINTS", "INDEXES",
    "FUNCTIONS", "TRIGGERS", "EVENT_TRIGGERS", "PUBLICATIONS", "POLICIES", "RULES", "STATISTICS",
    "DEFAULT_PRIVILEGES", "DEPENDS")}


def _schema(tables: int) -> str:
    """`tables` tables with what the queries look up for each: keys, a foreign key, a CHECK, indexes
    (plain, partial, expression), defaults, comments, inheritance, partitions, views, a trigger."""
    parts = ["CREATE TYPE mood AS ENUM ('a', 'b'); CREATE DOMAIN pos AS int CHECK (VALUE > 0);"
             "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
             "CREATE TABLE base (id int PRIMARY KEY, note text);"]
    for i in range(tables):
        parts.append(
            f"CREATE TABLE t{i} (id bigserial PRIMARY KEY, ref int REFERENCES base, m mood DEFAULT 'a', p pos,"
            f" name text NOT NULL CHECK (length(name) < 100), at timestamptz DEFAULT now());"
            f"CREATE INDEX ON t{i} (name); CREATE INDEX ON t{i} (at) WHERE p IS NOT NULL;"
            f"CREATE INDEX ON t{i} (lower(name)); COMMENT ON TABLE t{i} IS 'table {i}';"
            f"COMMENT ON COLUMN t{i}.name IS 'name';"
            f"CREATE VIEW v{i} AS SELECT id, name FROM t{i};"
            f"CREATE TRIGGER touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch();"
            f"CREATE TABLE c{i} (extra int) INHERITS (t{i});"
            f"CREATE TABLE p{i} (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k);"
            f"CREATE TABLE p{i}_1 PARTITION OF p{i} FOR VALUES IN (1);"
            f"CREATE INDEX ON p{i} (k);"
        )
    return "\n".join(parts)


def _rows(node: dict[str, Any]) -> float:
    """Rows a plan node and those under it go through: returned or filtered out, in every loop."""
    own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
           + node.get("Rows Removed by Join Filter", 0)) * node.get("Actual Loops", 1)
    return own + sum(_rows(child) for child in node.get("Plans", ()))


def _work(conn: psycopg.Connection, params: dict[str, object]) -> dict[str, float]:
    """Rows each query's plan goes through, from EXPLAIN ANALYZE."""
    work = {}
    for name, sql in QUERIES.items():
        (plan,) = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params).fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        work[name] = _rows(plan[0]["Plan"])
    return work


def _work_just_loaded(cluster: Any, tables: int) -> dict[str, float]:
    name = cluster.load(_schema(tables))
    try:
        with psycopg.connect(cluster.url(name), autocommit=True) as conn, conn.transaction():
            conn.execute("SET LOCAL search_path = ''")
            nsp = [oid for (oid,) in conn.execute("SELECT oid FROM pg_namespace WHERE nspname = 'public'")]
            return _work(conn, dict(nsp=nsp, all_schemas=True))
    finally:
        cluster.drop(name)


def test_queries_grow_linearly_without_catalog_statistics(any_pg) -> None:
    small, large = _work_just_loaded(any_pg, 25), _work_just_loaded(any_pg, 100)
    grown = {name: round(large[name] / max(small[name], 1), 1) for name in QUERIES}
    assert all(ratio <= 5 for ratio in grown.values()), grown
    assert sum(large.values()) / sum(small.values()) <= 4.5, (sum(small.values()), sum(large.values()))
