"""Object kinds the corpus does not exercise, each changed, added and removed, both directions.

Every pair goes through the oracle (empty re-diff and the independent catalog comparison)."""

from __future__ import annotations

import psycopg
import pytest

import corpus
from schemashift import inspect
from schemashift.model import Index

TABLE = "CREATE TABLE t (a int, b int, c text);\n"

PAIRS = {
    "aggregate": (
        "CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0');",
        "CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int, INITCOND = '10');"
        "CREATE AGGREGATE biggest(int) (SFUNC = int4larger, STYPE = int);",
    ),
    "extended statistics": (
        TABLE + "CREATE STATISTICS s1 (dependencies) ON a, b FROM t;",
        TABLE + "CREATE STATISTICS s1 (ndistinct) ON a, b FROM t; CREATE STATISTICS s2 ON a, c FROM t;"
        "ALTER STATISTICS s2 SET STATISTICS 500;",
    ),
    "rule": (
        TABLE + "CREATE TABLE log (a int); CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (NEW.a);",
        TABLE + "CREATE TABLE log (a int); CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (NEW.b);"
        "ALTER TABLE t DISABLE RULE r;",
    ),
    "event trigger": (
        "CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;",
        "CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;"
        "CREATE EVENT TRIGGER audit ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION on_ddl();"
        "ALTER EVENT TRIGGER audit DISABLE;",
    ),
    "publication": (
        TABLE + "CREATE TABLE u (a int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t WITH (publish = 'insert');",
        TABLE + "CREATE TABLE u (a int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t, u;",
    ),
    "materialized view with an index": (
        TABLE + "CREATE MATERIALIZED VIEW m AS SELECT a, b FROM t WITH NO DATA; CREATE INDEX m_a ON m (a);",
        TABLE + "CREATE MATERIALIZED VIEW m AS SELECT a, c FROM t; CREATE UNIQUE INDEX m_a ON m (a);",
    ),
    "view options": (
        TABLE + "CREATE VIEW v AS SELECT a FROM t;",
        TABLE + "CREATE VIEW v WITH (security_barrier = true, security_invoker = true) AS SELECT a FROM t WHERE a > 0 "
        "WITH CASCADED CHECK OPTION;",
    ),
    "trigger on a partitioned table, WHEN, constraint trigger": (
        "CREATE TABLE p (a int) PARTITION BY RANGE (a); CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
        "CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
        "CREATE TABLE p (a int) PARTITION BY RANGE (a); CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
        "CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
        "CREATE TRIGGER tr BEFORE INSERT ON p FOR EACH ROW WHEN (NEW.a > 1) EXECUTE FUNCTION tf();"
        "CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON p1 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tf();",
    ),
    "procedure and overloads": (
        "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;"
        "CREATE PROCEDURE pr(x int) LANGUAGE sql AS $$ SELECT x $$;",
        "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql STRICT PARALLEL SAFE COST 5 AS $$ SELECT x $$;"
        "CREATE FUNCTION g(x text) RETURNS text LANGUAGE sql SET search_path = public AS $$ SELECT x $$;"
        "CREATE PROCEDURE pr(x int, y int) LANGUAGE sql SECURITY DEFINER AS $$ SELECT x + y $$;",
    ),
    "partition indexes (derived from the parent's definition)": (
        PARTITIONED := 'CREATE SCHEMA "Part ""s""";'
        'CREATE TABLE p (a int, "B c" text, d int) PARTITION BY RANGE (a);'
        'CREATE TABLE "Part ""s"""."P 1" PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY LIST (d);'
        'CREATE TABLE "Part ""s"""."P 1 x" PARTITION OF "Part ""s"""."P 1" FOR VALUES IN (1);'
        "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);",
        PARTITIONED + 'CREATE INDEX "Ix ""1""" ON p (a DESC NULLS LAST, "B c" text_pattern_ops) INCLUDE (d);'
        'CREATE UNIQUE INDEX ix2 ON p (a, lower("B c") COLLATE "C", d) WHERE d > 0;'
        "CREATE INDEX ix3 ON p USING brin (d) WITH (pages_per_range = 16);"
        "ALTER INDEX p2_d_idx SET (pages_per_range = 8);",
    ),
    "default privileges and grants": (
        TABLE,
        TABLE + "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;"
        "GRANT SELECT (a), UPDATE (b) ON t TO PUBLIC; REVOKE ALL ON TABLE t FROM PUBLIC; GRANT INSERT ON t TO PUBLIC;",
    ),
}


# Indexes in every form the inspector prints without pg_get_indexdef (plain columns, partitions) and
# around it (types whose default operator class is another type's, collations, options, UNIQUE...).
INDEX_FORMS = (
    'CREATE DOMAIN d AS int; CREATE TABLE f ("select" int, "Mixed Case" text COLLATE "C", "ünï" varchar(9), '
    "dd d, j jsonb, r int4range, v tsvector, t text);"
    'CREATE INDEX ON f ("select"); CREATE INDEX ON f ("select" DESC); CREATE INDEX ON f (t NULLS FIRST);'
    'CREATE INDEX ON f ("select" DESC NULLS LAST, "Mixed Case"); CREATE INDEX ON f USING hash (t);'
    'CREATE INDEX ON f USING gin (j); CREATE INDEX ON f USING gin (j jsonb_path_ops); CREATE INDEX ON f ("ünï");'
    'CREATE INDEX ON f (dd); CREATE INDEX ON f ("Mixed Case" COLLATE "POSIX"); CREATE INDEX ON f (t text_pattern_ops);'
    "CREATE INDEX ON f USING brin (dd) WITH (pages_per_range = 4); CREATE INDEX ON f (t) INCLUDE (j);"
    "CREATE UNIQUE INDEX ON f (t); CREATE INDEX ON f (lower(t)); CREATE INDEX ON f (t) WHERE t <> '';"
    'CREATE UNIQUE INDEX ON f ("select" DESC, "ünï"); CREATE UNIQUE INDEX ON f (dd) NULLS NOT DISTINCT;'
    "CREATE INDEX ON f USING gist (r); CREATE INDEX ON f USING gist (v tsvector_ops (siglen = 100));"
)


def test_index_definitions_are_the_servers(any_pg) -> None:
    """Definitions printed from the catalogs or rebuilt from a parent's (queries.INDEXES) read
    exactly as pg_get_indexdef prints them: quoted names, sort orders, down two partition levels,
    partitions with storage options of their own."""
    name = any_pg.load(INDEX_FORMS + PAIRS["partition indexes (derived from the parent's definition)"][1])
    try:
        indexes = [o for o in inspect(any_pg.url(name)).objects.values() if isinstance(o, Index)]
        with psycopg.connect(any_pg.url(name)) as conn:
            conn.execute("SET search_path = ''")
            printed = {(schema, index): definition for schema, index, definition in conn.execute(
                "SELECT n.nspname, c.relname, pg_get_indexdef(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') AND n.nspname <> 'pg_catalog'"
                " AND n.nspname <> 'pg_toast'")}
    finally:
        any_pg.drop(name)
    assert len(indexes) == 12 + 20
    assert {(i.schema, i.name): i.definition for i in indexes} == printed


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_object_kind_round_trips(name: str, pg18) -> None:
    corpus.assert_round_trips(pg18, "kinds", name, *PAIRS[name])
