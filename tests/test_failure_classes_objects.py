"""Failure classes of the issue about alterable objects: pre-existing schemas' comments and grants,
materialized view storage options, column type changes with no cast, policies whose clauses or
role lists change, and range types with their multiranges. Each pair round-trips both directions
through the oracle."""

from __future__ import annotations

import pytest

import corpus

ROLES = ("sshift_pol_r1", "sshift_pol_r2")


TABLE = "CREATE TABLE t (a int, b int);\n"
RLS = TABLE + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n"

PAIRS = {
    # 1. schemas that exist before the diff runs (public) and schemas the diff creates
    "public comment": ("", "COMMENT ON SCHEMA public IS 'standard public schema';"),
    "public revoke from PUBLIC": ("", "REVOKE ALL ON SCHEMA public FROM PUBLIC;"),
    "public grants to a role": ("", "GRANT USAGE ON SCHEMA public TO sshift_pol_r1;"
                                    "GRANT ALL ON SCHEMA public TO sshift_pol_r2;"),
    "public revoke from its owner": ("", "REVOKE ALL ON SCHEMA public FROM pg_database_owner;"
                                         "GRANT USAGE ON SCHEMA public TO PUBLIC;"),
    "created schema with comment and grants": (
        "", "CREATE SCHEMA s; COMMENT ON SCHEMA s IS 'x'; GRANT USAGE ON SCHEMA s TO sshift_pol_r1;"
            "CREATE TABLE s.t (a int);"),
    "schema comment and grant change": (
        "CREATE SCHEMA s; COMMENT ON SCHEMA s IS 'x'; GRANT USAGE ON SCHEMA s TO sshift_pol_r1;",
        "CREATE SCHEMA s; COMMENT ON SCHEMA s IS 'y'; GRANT CREATE ON SCHEMA s TO sshift_pol_r2;"),
    # 5. materialized view storage options
    "matview storage options": (
        TABLE + "CREATE MATERIALIZED VIEW m AS SELECT a FROM t;",
        TABLE + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 70, autovacuum_enabled = false, "
                "toast_tuple_target = 256) AS SELECT a FROM t;"),
    "matview storage options changed": (
        TABLE + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.1) "
                "AS SELECT a FROM t;",
        TABLE + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 90) AS SELECT a FROM t;"),
    # 7. type changes with and without a conversion
    "bigint to timestamp (no cast)": (
        "CREATE TABLE c (id int, v bigint DEFAULT 1);",
        "CREATE TABLE c (id int, v timestamp);"),
    "date to int (no cast)": (
        "CREATE TABLE c (id int, v date NOT NULL);",
        "CREATE TABLE c (id int, v int NOT NULL DEFAULT 0);"),
    "int to boolean (cast)": ("CREATE TABLE c (v int);", "CREATE TABLE c (v boolean);"),
    "text to date and int to text (I/O conversion)": (
        "CREATE TABLE c (v text, w int);", "CREATE TABLE c (v date, w varchar(20));"),
    "domain over a base type": (
        "CREATE DOMAIN pos AS int CHECK (VALUE > 0); CREATE TABLE c (v bigint, w pos);",
        "CREATE DOMAIN pos AS int CHECK (VALUE > 0); CREATE TABLE c (v pos, w numeric);"),
    "no cast under a view": (
        "CREATE TABLE c (id int, v bigint); CREATE VIEW cv AS SELECT v FROM c;",
        "CREATE TABLE c (id int, v timestamptz); CREATE VIEW cv AS SELECT v FROM c;"),
    # 8. policy clauses that ALTER POLICY cannot take away
    "FOR ALL policy loses USING": (
        RLS + "CREATE POLICY p ON t USING (a > 0) WITH CHECK (b > 0);",
        RLS + "CREATE POLICY p ON t WITH CHECK (b > 0);"),
    "FOR ALL policy loses WITH CHECK": (
        RLS + "CREATE POLICY p ON t USING (a > 0) WITH CHECK (b > 0);",
        RLS + "CREATE POLICY p ON t USING (a > 0);"),
    "UPDATE policy loses WITH CHECK, comment kept": (
        RLS + "CREATE POLICY p ON t FOR UPDATE USING (a > 0) WITH CHECK (b > 0); COMMENT ON POLICY p ON t IS 'c';",
        RLS + "CREATE POLICY p ON t FOR UPDATE USING (a > 1); COMMENT ON POLICY p ON t IS 'c';"),
    # 15. policy role lists
    "policy roles": (
        RLS + "CREATE POLICY p ON t USING (a > 0);",
        RLS + "CREATE POLICY p ON t TO sshift_pol_r1, sshift_pol_r2 USING (a > 0);"),
    "policy roles swapped": (
        RLS + "CREATE POLICY p ON t FOR SELECT TO sshift_pol_r1 USING (a > 0);",
        RLS + "CREATE POLICY p ON t FOR SELECT TO sshift_pol_r2, PUBLIC USING (a > 0);"),
    "INSERT policy roles and check": (
        RLS + "CREATE POLICY p ON t FOR INSERT TO sshift_pol_r2 WITH CHECK (a > 0);",
        RLS + "CREATE POLICY p ON t FOR INSERT TO sshift_pol_r1 WITH CHECK (b > 0);"),
    # 13. range types and their multiranges
    "range type": ("", "CREATE TYPE fr AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = float8mi);"),
    "range with multirange name": (
        "", "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_many);"
            "CREATE TABLE rt (a ir, b ir_many);"),
    "range changed": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_many); COMMENT ON TYPE ir IS 'a';",
        "CREATE TYPE ir AS RANGE (SUBTYPE = int8); COMMENT ON TYPE ir IS 'b';"),
    "range used by a function and a column": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4);"
        "CREATE FUNCTION f(x ir_multirange) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE TYPE ir AS RANGE (SUBTYPE = numeric); CREATE TABLE rt (a ir);"),
    "range changed under columns, its multirange renamed": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_many);"
        "CREATE TABLE rt (a ir, b ir_many, c ir[]); CREATE VIEW rv AS SELECT a, c FROM rt;",
        "CREATE TYPE ir AS RANGE (SUBTYPE = int8); CREATE TABLE rt (a ir, b ir_multirange, c ir[]);"
        "CREATE VIEW rv AS SELECT a, c FROM rt;"),
    "range changed under a function and a default": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4); CREATE TABLE rt (a ir DEFAULT '[1,2)');"
        "CREATE FUNCTION f(x ir) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE TYPE ir AS RANGE (SUBTYPE = int8); CREATE TABLE rt (a ir DEFAULT '[1,2)');"
        "CREATE FUNCTION f(x ir) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"),
    "enum rebuilt under a function": (
        "CREATE TYPE e AS ENUM ('a', 'b', 'c'); CREATE TABLE et (v e);"
        "CREATE FUNCTION g(x e) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE TYPE e AS ENUM ('c', 'a'); CREATE TABLE et (v e);"
        "CREATE FUNCTION g(x e) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"),
    "range changed, multirange name kept": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_many); CREATE TABLE rt (b ir_many);",
        "CREATE TYPE ir AS RANGE (SUBTYPE = numeric, MULTIRANGE_TYPE_NAME = ir_many); CREATE TABLE rt (b ir_many);"),
    "range dropped under a column": (
        "CREATE TYPE ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = ir_many); CREATE TABLE rt (a ir, b ir_many);",
        "CREATE TABLE rt (a int, b text);"),
    "domain over a domain, to a type with no cast": (
        "CREATE DOMAIN d1 AS date; CREATE DOMAIN d2 AS d1; CREATE TABLE c (v d2);",
        "CREATE DOMAIN d1 AS date; CREATE DOMAIN d2 AS d1; CREATE TABLE c (v int);"),
    # all of these created from nothing and dropped to nothing, in one plan
    "everything at once": (
        "COMMENT ON SCHEMA public IS 'p';",
        "CREATE SCHEMA s; COMMENT ON SCHEMA s IS 'x'; GRANT USAGE ON SCHEMA s TO sshift_pol_r1;"
        "REVOKE ALL ON SCHEMA public FROM PUBLIC;"
        "CREATE TYPE s.ir AS RANGE (SUBTYPE = int4, MULTIRANGE_TYPE_NAME = s.ir_many);"
        "CREATE TABLE s.t (a int, r s.ir, m s.ir_many, d date); ALTER TABLE s.t ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY p ON s.t TO sshift_pol_r1, sshift_pol_r2 USING (a > 0) WITH CHECK (a > 1);"
        "CREATE MATERIALIZED VIEW s.m WITH (fillfactor = 50) AS SELECT a, r FROM s.t;"),
}


# PostgreSQL 15 too, where tables are not involved (the oracle reports every table column's
# options as different there: "pg_attver=<number>", which is not about these changes).
ON_PG15 = {"public comment", "public revoke from PUBLIC", "public grants to a role", "public revoke from its owner",
           "schema comment and grant change", "range type", "range changed"}
CASES = [("pg18", n) for n in sorted(PAIRS)] + [("pg15", n) for n in sorted(ON_PG15)]


@pytest.mark.parametrize(("server", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_failure_class_round_trips(server: str, name: str, request: pytest.FixtureRequest) -> None:
    cluster = request.getfixturevalue(server)
    for role in ROLES:
        corpus._create_role(cluster.admin, role)
    a, b = PAIRS[name]
    corpus.assert_round_trips(cluster, "failure_classes_objects", name, a, b)


def _plan(cluster, a: str, b: str):
    """The plan from `a` to `b`, each loaded into a database of its own."""
    from schemashift import api

    source, target = (api.inspect(cluster.url(cluster.load(text, corpus.TEMPLATE_PLAIN))) for text in (a, b))
    return api.diff_schemas(source, target)


def test_a_type_change_with_no_cast_is_a_destructive_drop_and_add_saying_why(pg18) -> None:
    plan = _plan(pg18, "CREATE TABLE c (v date);", "CREATE TABLE c (v integer);")
    assert [s.sql for s in plan.statements] == ['ALTER TABLE "public"."c" DROP COLUMN "v"',
                                                'ALTER TABLE "public"."c" ADD COLUMN "v" integer']
    assert plan.statements[0].destructive
    assert "-- UNSAFE: no cast from date to integer" in plan.text(mark_unsafe=True)


@pytest.mark.parametrize(("old", "new"), [("integer", "boolean"), ("text", "date"), ("integer", "varchar(3)"),
                                          ("numeric(10,2)", "numeric(12,4)"), ("integer[]", "bigint[]")])
def test_a_type_change_with_a_cast_stays_an_alter(old: str, new: str, pg18) -> None:
    plan = _plan(pg18, f"CREATE TABLE c (v {old});", f"CREATE TABLE c (v {new});")
    assert [s.sql.split(" TYPE ")[0] for s in plan.statements] == ['ALTER TABLE "public"."c" ALTER COLUMN "v"']


def test_policy_roles_are_a_set(pg18) -> None:
    """`TO r2, r1` and `TO r1, r2` are one policy (pg_policy.polroles keeps the order written)."""
    for role in ROLES:
        corpus._create_role(pg18.admin, role)
    policy = "CREATE POLICY p ON t TO {} USING (a > 0);"
    plan = _plan(pg18, RLS + policy.format("sshift_pol_r2, sshift_pol_r1"),
                 RLS + policy.format("sshift_pol_r1, sshift_pol_r2"))
    assert plan.statements == []
