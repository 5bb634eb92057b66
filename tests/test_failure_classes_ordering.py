"""Plans whose order depends on what PostgreSQL checks at each statement: an enum rebuilt under
defaults and expressions, tables recreated under their dependents, function bodies that read
relations of the same plan. Each pair goes both directions through the oracle."""

from __future__ import annotations

import psycopg
import pytest

import corpus
from schemashift import api

ENUM_ABC = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n"
ENUM_AB = "CREATE TYPE mood AS ENUM ('sad', 'ok');\n"
ENUM_REORDERED = "CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad');\n"

ENUM_CASES = {
    # class 9: the default reads the type being rebuilt
    "enum label removed under a default": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood DEFAULT 'ok');",
        ENUM_AB + "CREATE TABLE t (id int, m mood DEFAULT 'ok');",
    ),
    "enum label removed under a default and an array default": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood NOT NULL DEFAULT 'sad', ms mood[] DEFAULT '{ok}');",
        ENUM_AB + "CREATE TABLE t (id int, m mood NOT NULL DEFAULT 'sad', ms mood[] DEFAULT '{ok}');",
    ),
    "enum label removed under a default of another column type": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood DEFAULT 'ok', label text DEFAULT ('ok'::mood)::text);",
        ENUM_AB + "CREATE TABLE t (id int, m mood DEFAULT 'ok', label text DEFAULT ('ok'::mood)::text);",
    ),
    "enum label removed while the default and the table change too": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood DEFAULT 'happy');",
        ENUM_AB + "CREATE TABLE t (id int, m mood DEFAULT 'ok', n mood DEFAULT 'sad');",
    ),
    "enum label removed under a default, the column of a partitioned table": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood DEFAULT 'ok') PARTITION BY LIST (id);"
        "CREATE TABLE t1 PARTITION OF t FOR VALUES IN (1);",
        ENUM_AB + "CREATE TABLE t (id int, m mood DEFAULT 'ok') PARTITION BY LIST (id);"
        "CREATE TABLE t1 PARTITION OF t FOR VALUES IN (1);",
    ),
    # class 14: expressions compare the column with an enum literal
    "enum reordered under a partial index": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood); CREATE INDEX t_ok ON t (id) WHERE m = 'ok';",
        ENUM_REORDERED + "CREATE TABLE t (id int, m mood); CREATE INDEX t_ok ON t (id) WHERE m = 'ok';",
    ),
    "enum label removed under an expression index and a check": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood CHECK (m <> 'sad')); CREATE INDEX t_e ON t ((m > 'sad'));",
        ENUM_AB + "CREATE TABLE t (id int, m mood CHECK (m <> 'sad')); CREATE INDEX t_e ON t ((m > 'sad'));",
    ),
    "enum reordered under a view comparing with a literal": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood); CREATE VIEW v AS SELECT id FROM t WHERE m < 'happy';",
        ENUM_REORDERED + "CREATE TABLE t (id int, m mood); CREATE VIEW v AS SELECT id FROM t WHERE m < 'happy';",
    ),
    "enum label removed under a check with IN and a view over a view": (
        ENUM_ABC + "CREATE TABLE t (id int, m mood, CONSTRAINT known CHECK (m IN ('sad', 'ok')));"
        "CREATE VIEW v AS SELECT id, m FROM t WHERE m >= 'ok'; CREATE VIEW w AS SELECT id FROM v;",
        ENUM_AB + "CREATE TABLE t (id int, m mood, CONSTRAINT known CHECK (m IN ('sad', 'ok')));"
        "CREATE VIEW v AS SELECT id, m FROM t WHERE m >= 'ok'; CREATE VIEW w AS SELECT id FROM v;",
    ),
    "enum reordered under a function of it and a default": (
        ENUM_ABC + "CREATE FUNCTION rank_of(x mood) RETURNS int LANGUAGE sql IMMUTABLE RETURN x::text::int;"
        "CREATE TABLE t (id int, m mood DEFAULT 'happy');",
        ENUM_REORDERED + "CREATE FUNCTION rank_of(x mood) RETURNS int LANGUAGE sql IMMUTABLE RETURN x::text::int;"
        "CREATE TABLE t (id int, m mood DEFAULT 'happy');",
    ),
}


@pytest.mark.parametrize("name", sorted(ENUM_CASES))
def test_enum_rebuild(pg18, name: str) -> None:
    a, b = ENUM_CASES[name]
    corpus.assert_round_trips(pg18, "enum rebuild", name, a, b)


PLAIN = "CREATE TABLE m (id int NOT NULL, at date NOT NULL, note text, PRIMARY KEY (id, at));\n"
PARTITIONED = ("CREATE TABLE m (id int NOT NULL, at date NOT NULL, note text, PRIMARY KEY (id, at))"
               " PARTITION BY RANGE (at);\n"
               "CREATE TABLE m_2026 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n")
OVER_M = {
    "a view over a view": "CREATE VIEW v AS SELECT id, note FROM m; CREATE VIEW w AS SELECT id FROM v;",
    "a materialized view with an index": "CREATE MATERIALIZED VIEW mv AS SELECT id, at FROM m;"
                                         "CREATE UNIQUE INDEX mv_id ON mv (id, at);",
    "a foreign key from another table": "CREATE TABLE ref (id int, at date, FOREIGN KEY (id, at) REFERENCES m);",
    "a trigger and a policy on a view's table": (
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
        "CREATE TRIGGER m_touch BEFORE INSERT ON m FOR EACH ROW EXECUTE FUNCTION touch();"
        "ALTER TABLE m ENABLE ROW LEVEL SECURITY; CREATE POLICY mine ON m USING (note IS NOT NULL);"
        "CREATE VIEW v AS SELECT * FROM m;"),
}


@pytest.mark.parametrize("name", sorted(OVER_M))
def test_table_partitioned_or_back_under_dependents(pg18, name: str) -> None:
    corpus.assert_round_trips(pg18, "table recreated", name, PLAIN + OVER_M[name], PARTITIONED + OVER_M[name])


def test_table_list_partitioned_to_range_under_a_view_chain_and_fk(pg18) -> None:
    """A change of partition key recreates the table too: the same dependents around it."""
    over = ("CREATE VIEW v AS SELECT id, at FROM m; CREATE MATERIALIZED VIEW mv AS SELECT id FROM v;"
            "CREATE TABLE ref (id int, at date, FOREIGN KEY (id, at) REFERENCES m);")
    by_list = ("CREATE TABLE m (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY LIST (id);"
               "CREATE TABLE m_1 PARTITION OF m FOR VALUES IN (1);")
    by_range = ("CREATE TABLE m (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);"
                "CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');")
    corpus.assert_round_trips(pg18, "table recreated", "partition key changed", by_list + over, by_range + over)


BODY_CASES = {
    "a SQL function reading a table and a view of the plan": (
        "",
        "CREATE TABLE zt (id int, n int); CREATE VIEW zv AS SELECT id FROM zt WHERE n > 0;"
        "CREATE FUNCTION a_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM zv JOIN public.zt"
        " USING (id) $$;",
    ),
    "a SQL procedure writing a table of the plan": (
        "",
        "CREATE TABLE zlog (msg text);"
        "CREATE PROCEDURE a_log(m text) LANGUAGE sql AS $$ INSERT INTO zlog VALUES (m) $$;",
    ),
    "a table whose default calls a SQL function reading another table": (
        "",
        "CREATE TABLE zseq (n int); CREATE FUNCTION a_next() RETURNS int LANGUAGE sql"
        " AS $$ SELECT coalesce(max(n), 0) + 1 FROM zseq $$; CREATE TABLE b (id int DEFAULT a_next(),"
        " CHECK (id <= a_next() + 1000));",
    ),
    "a BEGIN ATOMIC function over a table of the plan": (
        "",
        "CREATE TABLE zt (id int); CREATE FUNCTION a_max() RETURNS int LANGUAGE sql BEGIN ATOMIC"
        " SELECT max(id) FROM zt; END;",
    ),
}


def test_a_sql_function_reading_the_table_whose_default_calls_it(pg18) -> None:
    """No order creates both with bodies checked; the plan must still order (no cycle error)."""
    corpus.assert_round_trips(pg18, "function body", "default reads its own table", "",
                              "CREATE TABLE zt (id int); CREATE FUNCTION a_next() RETURNS int LANGUAGE sql"
                              " AS $$ SELECT count(*)::int FROM zt $$; ALTER TABLE zt ALTER id SET DEFAULT a_next();")


@pytest.mark.parametrize("name", sorted(BODY_CASES))
def test_function_body_reads_the_plan(pg18, name: str) -> None:
    a, b = BODY_CASES[name]
    corpus.assert_round_trips(pg18, "function body", name, a, b)
    for x, y in ((a, b), (b, a)):
        assert_applies_with_bodies_checked(pg18, x, y)


def assert_applies_with_bodies_checked(cluster, a: str, b: str) -> None:
    """The plan run as a user's `psql -v ON_ERROR_STOP=1` runs it: one statement at a time, with
    `check_function_bodies` on (the server's default), which api.apply turns off."""
    db_a, db_b = cluster.load(a), cluster.load(b)
    try:
        plan = api.diff(cluster.url(db_a), cluster.url(db_b))
        with psycopg.connect(cluster.url(db_a), autocommit=True) as conn:
            assert conn.execute("SHOW check_function_bodies").fetchone()[0] == "on"
            for st in plan.statements:
                conn.execute(st.sql)
        assert not api.diff(cluster.url(db_a), cluster.url(db_b)), "the plan left differences"
    finally:
        cluster.drop(db_a)
        cluster.drop(db_b)


def test_plpgsql_functions_come_after_the_relations_of_the_plan(pg18) -> None:
    """A PL/pgSQL body's relations cannot be known from pg_depend: it goes after the plan's tables
    and views, unless a table needs it sooner (its default)."""
    b = ("CREATE FUNCTION a_stamp() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN (SELECT count(*) FROM zv); END$$;"
         "CREATE FUNCTION a_id() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$;"
         "CREATE TABLE zt (id int DEFAULT a_id()); CREATE VIEW zv AS SELECT id FROM zt;")
    corpus.assert_round_trips(pg18, "function body", "plpgsql after relations", "", b)
    db_a, db_b = pg18.load(""), pg18.load(b)
    try:
        sql = [s.sql for s in api.diff(pg18.url(db_a), pg18.url(db_b)).statements]
    finally:
        pg18.drop(db_a)
        pg18.drop(db_b)
    at = {what: next(i for i, s in enumerate(sql) if what in s) for what in ("a_stamp()", "a_id()", '"zt"', '"zv"')}
    assert at["a_id()"] < at['"zt"'] < at['"zv"'] < at["a_stamp()"], sql
