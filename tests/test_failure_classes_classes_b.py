"""Variants of the failure classes a real project's schema history produces (matview storage
options, function bodies reading the plan, type changes with no cast, policies, enum and range
rebuilds under their dependents), each both directions through the oracle on every server.

Written from PostgreSQL's documented behaviour: storage parameters of a materialized view are set
with ALTER MATERIALIZED VIEW, a SQL or PL/pgSQL body is checked at CREATE FUNCTION, ALTER COLUMN
TYPE needs an assignment or I/O conversion, ALTER POLICY cannot remove a clause, and an enum's
labels cannot be dropped or reordered in place."""

from __future__ import annotations

import pytest

import corpus

ROLES = ("sshift_pol_r1", "sshift_pol_r2", "sshift pol r3")

T = "CREATE TABLE t (id int PRIMARY KEY, a int, b text);\n"
MV = T + "CREATE MATERIALIZED VIEW m {with_} AS SELECT id, a FROM t;\nCREATE UNIQUE INDEX m_id ON m (id);\n"

MATVIEWS = {  # class 5
    "toast and autovacuum options set": (
        MV.format(with_=""), MV.format(with_="WITH (toast.autovacuum_enabled = false, autovacuum_vacuum_threshold = 50,"
                                        " toast.autovacuum_vacuum_cost_delay = 5)")),
    "options changed and reset together": (
        MV.format(with_="WITH (fillfactor = 60, autovacuum_analyze_scale_factor = 0.02, toast.vacuum_truncate = false)"),
        MV.format(with_="WITH (fillfactor = 80, autovacuum_freeze_max_age = 200000000)")),
    "options on a matview in a quoted schema": (
        'CREATE SCHEMA "Rep ört"; CREATE TABLE "Rep ört".t (id int);'
        'CREATE MATERIALIZED VIEW "Rep ört"."Mv" AS SELECT id FROM "Rep ört".t;',
        'CREATE SCHEMA "Rep ört"; CREATE TABLE "Rep ört".t (id int);'
        'CREATE MATERIALIZED VIEW "Rep ört"."Mv" WITH (autovacuum_enabled = off, parallel_workers = 2)'
        ' AS SELECT id FROM "Rep ört".t;'),
    "matview recreated with options and an index": (
        MV.format(with_="WITH (fillfactor = 70)"),
        T + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 50, toast.autovacuum_enabled = false)"
        " AS SELECT id, a, b FROM t; CREATE UNIQUE INDEX m_id ON m (id); CREATE INDEX m_b ON m (b);"),
    "index on a matview gets storage options": (
        MV.format(with_=""), MV.format(with_="").replace("ON m (id)", "ON m (id) WITH (fillfactor = 50)")),
    "matview over a matview with options, base recreated": (
        MV.format(with_="WITH (fillfactor = 70)") + "CREATE MATERIALIZED VIEW m2 WITH (autovacuum_enabled = false)"
        " AS SELECT id FROM m;",
        MV.format(with_="WITH (fillfactor = 70)").replace("SELECT id, a", "SELECT id, a, 1 AS one")
        + "CREATE MATERIALIZED VIEW m2 WITH (autovacuum_enabled = false) AS SELECT id FROM m;"),
    "matview options with comment and grant": (
        MV.format(with_="") + "COMMENT ON MATERIALIZED VIEW m IS 'x'; GRANT SELECT ON m TO sshift_pol_r1;",
        MV.format(with_="WITH (autovacuum_vacuum_insert_threshold = 1000)")
        + "COMMENT ON MATERIALIZED VIEW m IS 'y'; GRANT SELECT ON m TO sshift_pol_r2;"),
    "matview with no data gets options": (
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t WITH NO DATA;",
        T + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 40) AS SELECT id FROM t WITH NO DATA;"),
}

F = "CREATE SCHEMA app;\n"
FUNCTIONS = {  # class 6
    "sql function in a schema reads a view of the plan": (
        "", F + "CREATE TABLE app.users (id int, name text); CREATE VIEW app.active AS SELECT id FROM app.users;"
        "CREATE FUNCTION app.n_active() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app.active $$;"),
    "plpgsql function with search_path reads a table unqualified": (
        "", F + "CREATE TABLE app.items (id int);"
        "CREATE FUNCTION app.n_items() RETURNS bigint LANGUAGE plpgsql SET search_path = app, pg_temp"
        " AS $$BEGIN RETURN (SELECT count(*) FROM items); END$$;"),
    "sql function with search_path reads a table unqualified": (
        "", F + "CREATE TABLE app.items (id int);"
        "CREATE FUNCTION public.n_items() RETURNS bigint LANGUAGE sql SET search_path = app"
        " AS $$ SELECT count(*) FROM items $$;"),
    "sql function reads a sequence and a type of the plan": (
        "", "CREATE SEQUENCE tick; CREATE TYPE pair AS (x int, y int);"
        "CREATE FUNCTION next_pair() RETURNS pair LANGUAGE sql AS $$ SELECT ROW(nextval('tick')::int, 0)::pair $$;"),
    "sql function calls another function of the plan": (
        "", "CREATE TABLE t (id int); CREATE FUNCTION z_inner() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM t $$;"
        "CREATE FUNCTION a_outer() RETURNS bigint LANGUAGE sql AS $$ SELECT z_inner() + 1 $$;"),
    "begin atomic procedure writes a table of the plan": (
        "", "CREATE TABLE audit (at timestamptz, what text);"
        "CREATE PROCEDURE a_log(w text) LANGUAGE sql BEGIN ATOMIC INSERT INTO audit VALUES (now(), w); END;"),
    "trigger function reads another table": (
        "", "CREATE TABLE limits (n int); CREATE TABLE t (id int);"
        "CREATE FUNCTION a_guard() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
        " IF (SELECT count(*) FROM t) > (SELECT max(n) FROM limits) THEN RAISE 'full'; END IF; RETURN NEW; END$$;"
        "CREATE TRIGGER guard BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION a_guard();"),
    "check and generated column call a function reading a type": (
        "", "CREATE TYPE lvl AS ENUM ('lo', 'hi');"
        "CREATE FUNCTION a_rank(x lvl) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT CASE x WHEN 'lo'::lvl THEN 1 ELSE 2 END $$;"
        "CREATE TABLE t (v lvl CHECK (a_rank(v) > 0), r int GENERATED ALWAYS AS (a_rank(v)) STORED);"),
    "sql function reads a table changed in the plan": (
        "CREATE TABLE t (id int); CREATE FUNCTION a_n() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM t $$;",
        "CREATE TABLE t (id int, w int); CREATE FUNCTION a_n() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(w) FROM t $$;"),
    "sql function returns setof a table of the plan": (
        "", F + 'CREATE TABLE app."Ünits" (id int);'
        'CREATE FUNCTION app.all_units() RETURNS SETOF app."Ünits" LANGUAGE sql AS $$ SELECT * FROM app."Ünits" $$;'),
    "policy calls a function reading another table": (
        "", "CREATE TABLE members (uid int); CREATE TABLE docs (owner int); ALTER TABLE docs ENABLE ROW LEVEL SECURITY;"
        "CREATE FUNCTION a_is_member(u int) RETURNS bool LANGUAGE sql STABLE AS $$ SELECT EXISTS (SELECT 1 FROM members WHERE uid = u) $$;"
        "CREATE POLICY p ON docs USING (a_is_member(owner));"),
    "view calls a function reading a table": (
        "", "CREATE TABLE t (id int); CREATE FUNCTION a_n() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM t $$;"
        "CREATE VIEW v AS SELECT a_n() AS n;"),
    "function reads a matview of the plan": (
        "", T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;"
        "CREATE FUNCTION a_m() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM m $$;"),
    "sql function reads a table with a column added to it": (
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int, w int); CREATE FUNCTION a_w() RETURNS bigint LANGUAGE sql AS $$ SELECT sum(w) FROM t $$;"),
}

CASTS = {  # class 7
    "bigint to timestamp under an index and a view": (
        "CREATE TABLE c (id int, v bigint DEFAULT 0); CREATE INDEX c_v ON c (v); CREATE VIEW cv AS SELECT id, v FROM c;",
        "CREATE TABLE c (id int, v timestamp DEFAULT now()); CREATE INDEX c_v ON c (v); CREATE VIEW cv AS SELECT id, v FROM c;"),
    "text to int array": ("CREATE TABLE c (id int, v text);", "CREATE TABLE c (id int, v int[]);"),
    "json to xml": ("CREATE TABLE c (id int, v json);", "CREATE TABLE c (id int, v xml);"),
    "enum to another enum": (
        "CREATE TYPE e1 AS ENUM ('a'); CREATE TYPE e2 AS ENUM ('b'); CREATE TABLE c (v e1 DEFAULT 'a');",
        "CREATE TYPE e1 AS ENUM ('a'); CREATE TYPE e2 AS ENUM ('b'); CREATE TABLE c (v e2 DEFAULT 'b');"),
    "int array to timestamp array": ("CREATE TABLE c (v int[]);", "CREATE TABLE c (v timestamp[]);"),
    "domain over date to int": (
        "CREATE DOMAIN dd AS date; CREATE TABLE c (v dd NOT NULL);", "CREATE DOMAIN dd AS date; CREATE TABLE c (v int);"),
    "uuid to int in a schema with a comment": (
        'CREATE SCHEMA "S"; CREATE TABLE "S".c (v uuid); COMMENT ON COLUMN "S".c.v IS \'x\';',
        'CREATE SCHEMA "S"; CREATE TABLE "S".c (v int); COMMENT ON COLUMN "S".c.v IS \'x\';'),
    "no cast on a partitioned table": (
        "CREATE TABLE p (id int, v bigint) PARTITION BY LIST (id); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);",
        "CREATE TABLE p (id int, v timestamp) PARTITION BY LIST (id); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);"),
    "no cast with a check and a foreign key elsewhere": (
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE c (rid int REFERENCES r, v bigint CHECK (v > 0));",
        "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE c (rid int REFERENCES r, v date CHECK (v > '2000-01-01'));"),
    "no cast under a matview and a grant": (
        "CREATE TABLE c (id int, v bigint); GRANT SELECT (v) ON c TO sshift_pol_r1; CREATE MATERIALIZED VIEW cm AS SELECT v FROM c;",
        "CREATE TABLE c (id int, v inet); GRANT SELECT (v) ON c TO sshift_pol_r1; CREATE MATERIALIZED VIEW cm AS SELECT v FROM c;"),
    "no cast under a unique constraint, statistics and a partial index": (
        "CREATE TABLE c (id int, v bigint UNIQUE, w int); CREATE STATISTICS c_st ON id, v FROM c;"
        "CREATE INDEX c_w ON c (w) WHERE v > 0;",
        "CREATE TABLE c (id int, v timestamptz UNIQUE, w int); CREATE STATISTICS c_st ON id, v FROM c;"
        "CREATE INDEX c_w ON c (w) WHERE v > '2020-01-01';"),
    "no cast under a trigger on the column": (
        "CREATE TABLE c (id int, v json); CREATE FUNCTION a_t() RETURNS trigger LANGUAGE plpgsql"
        " AS $$BEGIN RETURN NEW; END$$; CREATE TRIGGER c_t BEFORE UPDATE OF v ON c FOR EACH ROW EXECUTE FUNCTION a_t();",
        "CREATE TABLE c (id int, v xml); CREATE FUNCTION a_t() RETURNS trigger LANGUAGE plpgsql"
        " AS $$BEGIN RETURN NEW; END$$; CREATE TRIGGER c_t BEFORE UPDATE OF v ON c FOR EACH ROW EXECUTE FUNCTION a_t();"),
}

P = T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n"
POLICIES = {  # classes 8 and 15
    "SELECT policy role list grows and shrinks": (
        P + "CREATE POLICY p ON t FOR SELECT TO sshift_pol_r1 USING (a > 0);",
        P + 'CREATE POLICY p ON t FOR SELECT TO sshift_pol_r1, "sshift pol r3" USING (a > 0);'),
    "role list to PUBLIC": (
        P + "CREATE POLICY p ON t TO sshift_pol_r1, sshift_pol_r2 USING (true);",
        P + "CREATE POLICY p ON t USING (true);"),
    "role list to CURRENT_USER like roles and public": (
        P + "CREATE POLICY p ON t FOR UPDATE TO public USING (a > 0) WITH CHECK (a > 1);",
        P + "CREATE POLICY p ON t FOR UPDATE TO sshift_pol_r2 USING (a > 0);"),
    "INSERT policy check changed": (
        P + "CREATE POLICY p ON t FOR INSERT WITH CHECK (a > 0);",
        P + "CREATE POLICY p ON t FOR INSERT TO sshift_pol_r1 WITH CHECK (a > 5 AND b IS NOT NULL);"),
    "DELETE policy using changed": (
        P + "CREATE POLICY p ON t FOR DELETE USING (a > 0);",
        P + "CREATE POLICY p ON t FOR DELETE USING (b <> 'keep');"),
    "UPDATE policy loses WITH CHECK": (
        P + "CREATE POLICY p ON t FOR UPDATE USING (a > 0) WITH CHECK (a < 100);",
        P + "CREATE POLICY p ON t FOR UPDATE USING (a > 0);"),
    "FOR ALL loses WITH CHECK": (
        P + "CREATE POLICY p ON t USING (a > 0) WITH CHECK (a < 100);", P + "CREATE POLICY p ON t USING (a > 0);"),
    "permissive to restrictive": (
        P + "CREATE POLICY p ON t AS PERMISSIVE USING (a > 0);", P + "CREATE POLICY p ON t AS RESTRICTIVE USING (a > 0);"),
    "command changed": (
        P + "CREATE POLICY p ON t FOR SELECT USING (a > 0);", P + "CREATE POLICY p ON t FOR DELETE USING (a > 0);"),
    "policy reads a table created in the plan": (
        P, P + "CREATE TABLE owners (id int); CREATE POLICY p ON t USING (a IN (SELECT id FROM owners));"),
    "policy reads a function created in the plan": (
        P, P + "CREATE FUNCTION a_me() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;"
        "CREATE POLICY p ON t TO sshift_pol_r1 USING (a = a_me()) WITH CHECK (a = a_me());"),
    "quoted policy in a quoted schema": (
        'CREATE SCHEMA "Ten ant"; CREATE TABLE "Ten ant"."Doc" (a int); ALTER TABLE "Ten ant"."Doc" ENABLE ROW LEVEL SECURITY;'
        'CREATE POLICY "Own Rows" ON "Ten ant"."Doc" TO sshift_pol_r1 USING (a > 0);',
        'CREATE SCHEMA "Ten ant"; CREATE TABLE "Ten ant"."Doc" (a int); ALTER TABLE "Ten ant"."Doc" ENABLE ROW LEVEL SECURITY;'
        'CREATE POLICY "Own Rows" ON "Ten ant"."Doc" TO sshift_pol_r2, "sshift pol r3" WITH CHECK (a > 0);'),
    "policy on a partitioned table": (
        "CREATE TABLE pt (id int, a int) PARTITION BY LIST (id); CREATE TABLE pt1 PARTITION OF pt FOR VALUES IN (1);"
        "ALTER TABLE pt ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON pt USING (a > 0) WITH CHECK (a > 0);",
        "CREATE TABLE pt (id int, a int) PARTITION BY LIST (id); CREATE TABLE pt1 PARTITION OF pt FOR VALUES IN (1);"
        "ALTER TABLE pt ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON pt TO sshift_pol_r1 WITH CHECK (a > 0);"),
}

E3 = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n"
E2 = "CREATE TYPE mood AS ENUM ('sad', 'ok');\n"
ER = "CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad');\n"


def both(e_from: str, e_to: str, rest: str) -> tuple[str, str]:
    return e_from + rest, e_to + rest


ENUMS = {  # classes 9 and 14
    "domain over the enum": both(E3, E2, "CREATE DOMAIN md AS mood; CREATE TABLE t (v md DEFAULT 'ok');"),
    "domain over the enum with a check": both(
        E3, E2, "CREATE DOMAIN md AS mood NOT NULL CHECK (VALUE <> 'sad'); CREATE TABLE t (v md);"),
    "array of the enum with a default": both(E3, ER, "CREATE TABLE t (v mood[] DEFAULT ARRAY['ok']::mood[]);"),
    "composite containing the enum": both(E3, E2, "CREATE TYPE pair AS (m mood, n int); CREATE TABLE t (p pair);"),
    "enum in a non-public schema used across schemas": both(
        "CREATE SCHEMA k; CREATE TYPE k.st AS ENUM ('new', 'open', 'closed');",
        "CREATE SCHEMA k; CREATE TYPE k.st AS ENUM ('new', 'closed');",
        "CREATE SCHEMA w; CREATE TABLE w.t (s k.st NOT NULL DEFAULT 'new'); CREATE INDEX ON w.t (s) WHERE s <> 'closed';"),
    "generated column comparing the enum": both(
        E3, ER, "CREATE TABLE t (v mood, sad bool GENERATED ALWAYS AS (v = 'sad') STORED);"),
    "matview filtering on the enum": both(
        E3, E2, "CREATE TABLE t (id int, v mood); CREATE MATERIALIZED VIEW m AS SELECT id FROM t WHERE v = 'ok';"
        "CREATE INDEX m_id ON m (id);"),
    "policy comparing the enum": both(
        E3, ER, "CREATE TABLE t (id int, v mood); ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY p ON t USING (v >= 'ok');"),
    "enum ordering operators in a check and a unique partial index": both(
        E3, ER, "CREATE TABLE t (id int, v mood, CHECK (v BETWEEN 'sad' AND 'happy'));"
        "CREATE UNIQUE INDEX t_one ON t (id) WHERE v > 'sad';"),
    "view using enum_range": both(E3, ER, "CREATE VIEW v AS SELECT enum_range(NULL::mood) AS r;"),
}

R = "CREATE TYPE span AS RANGE (SUBTYPE = int4);\n"
RN = "CREATE TYPE span AS RANGE (SUBTYPE = numeric);\n"
RANGES = {  # class 13
    "range with columns and a multirange column changes subtype": (
        R + "CREATE TABLE t (r span, m span_multirange);", RN + "CREATE TABLE t (r span, m span_multirange);"),
    "range dropped with a function over it": (
        R + "CREATE FUNCTION w(x span) RETURNS int LANGUAGE sql AS $$ SELECT upper(x) - lower(x) $$;", ""),
    "domain over the range": (
        R + "CREATE DOMAIN sd AS span CHECK (NOT isempty(VALUE)); CREATE TABLE t (s sd);",
        RN + "CREATE DOMAIN sd AS span CHECK (NOT isempty(VALUE)); CREATE TABLE t (s sd);"),
    "text range changes collation": (
        'CREATE TYPE tr AS RANGE (SUBTYPE = text, COLLATION = "C"); CREATE TABLE t (r tr);',
        'CREATE TYPE tr AS RANGE (SUBTYPE = text, COLLATION = "POSIX"); CREATE TABLE t (r tr);'),
    "range with a named multirange dropped under a view": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int8, MULTIRANGE_TYPE_NAME = ir_set); CREATE TABLE t (m ir_set);"
        "CREATE VIEW v AS SELECT m FROM t;", "CREATE TABLE t (m int8multirange); CREATE VIEW v AS SELECT m FROM t;"),
    "range multirange renamed": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_a);",
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_b);"),
}

CASES = {f"{group}: {name}": pair for group, cases in (
    ("matview", MATVIEWS), ("body", FUNCTIONS), ("cast", CASTS), ("policy", POLICIES), ("enum", ENUMS),
    ("range", RANGES)) for name, pair in cases.items()}


@pytest.fixture
def roles(any_pg):
    for role in ROLES:
        corpus._create_role(any_pg.admin, role)
    return any_pg


@pytest.mark.parametrize("name", list(CASES))
def test_round_trips(roles, name: str) -> None:
    a, b = CASES[name]
    corpus.assert_round_trips(roles, "classes-b", name, a, b)
