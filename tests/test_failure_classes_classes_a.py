"""Variants of failure classes 1-4 and 10-12 that a real project's schemas have and the cases we
wrote first did not: multi-level partition trees, grandchildren and multiple inheritance, tables
turned partitioned under views and keys, invalid and renamed partition indexes, identity columns
added to or attached under partitioned tables, persistence changes across foreign-key cycles, and
schemas' comments and grants. Each runs both directions through the independent oracle.

Written from PostgreSQL's documented behaviour: ALTER TABLE recurses down the whole tree, a
partition's index goes with its parent's, before 17 an identity column cannot be added to a table
with children and from 17 a partition takes its parent's identity on ATTACH, and a logged table
may not reference an unlogged one (a cycle of such keys has no order to change persistence in)."""

from __future__ import annotations

import pytest

import corpus

SCHEMAS = {
    'quoted unicode schema': (
        "",
        'CREATE SCHEMA "Über Schema"; COMMENT ON SCHEMA "Über Schema" IS \'x\'; '
        'CREATE TABLE "Über Schema"."T" (id int); GRANT USAGE ON SCHEMA "Über Schema" TO PUBLIC;'),
    'public revoke with tables': (
        'CREATE TABLE t (id int); GRANT SELECT ON t TO PUBLIC;',
        'REVOKE ALL ON SCHEMA public FROM PUBLIC; CREATE TABLE t (id int); GRANT SELECT ON t TO PUBLIC; '
        'COMMENT ON SCHEMA public IS NULL;'),
    'schema with view and default privileges': (
        "",
        'CREATE SCHEMA rep; ALTER DEFAULT PRIVILEGES IN SCHEMA rep GRANT SELECT ON TABLES TO PUBLIC; '
        "CREATE TABLE rep.t (id int); CREATE VIEW rep.v AS SELECT * FROM rep.t; COMMENT ON SCHEMA rep IS 'r';"),
    'schema dropped with default privileges on functions and sequences': (
        'CREATE SCHEMA api; ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT EXECUTE ON FUNCTIONS TO PUBLIC; '
        'ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT USAGE ON SEQUENCES TO PUBLIC; '
        "GRANT USAGE ON SCHEMA api TO PUBLIC; CREATE FUNCTION api.f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
        ""),
}

THREE_LEVELS = (  # range, then list, then hash partitions, and a default
    'CREATE TABLE g (id int NOT NULL, v int, s text, w {w}) PARTITION BY RANGE (id); '
    'CREATE TABLE g1 PARTITION OF g FOR VALUES FROM (0) TO (100) PARTITION BY LIST (v); '
    'CREATE TABLE g1a PARTITION OF g1 FOR VALUES IN (1); '
    'CREATE TABLE g1b PARTITION OF g1 FOR VALUES IN (2) PARTITION BY HASH (s); '
    'CREATE TABLE g1b0 PARTITION OF g1b FOR VALUES WITH (MODULUS 2, REMAINDER 0); '
    'CREATE TABLE g1b1 PARTITION OF g1b FOR VALUES WITH (MODULUS 2, REMAINDER 1); '
    'CREATE TABLE g2 PARTITION OF g DEFAULT;')

COLUMNS = {
    '3-level type': (THREE_LEVELS.format(w="int"), THREE_LEVELS.format(w="bigint")),
    '3-level not null': (THREE_LEVELS.format(w="int"), THREE_LEVELS.format(w="int NOT NULL")),
    'grandchild default': (
        'CREATE TABLE a (id int, v int); CREATE TABLE b (x int) INHERITS (a); CREATE TABLE c (y int) INHERITS (b);',
        'CREATE TABLE a (id int, v int DEFAULT 3); CREATE TABLE b (x int) INHERITS (a); '
        'CREATE TABLE c (y int) INHERITS (b);'),
    'multiple inheritance not null both': (
        'CREATE TABLE m1 (id int, v int); CREATE TABLE m2 (id int, w int); '
        'CREATE TABLE kid (z int) INHERITS (m1, m2);',
        'CREATE TABLE m1 (id int NOT NULL, v int); CREATE TABLE m2 (id int NOT NULL, w int); '
        'CREATE TABLE kid (z int) INHERITS (m1, m2);'),
}

RECREATED = {
    'to partitioned with view on view': (
        "CREATE TABLE t (id int NOT NULL, v int, created date NOT NULL DEFAULT '2020-01-01'); "
        "CREATE VIEW tv AS SELECT id, v FROM t; CREATE VIEW tv2 AS SELECT id FROM tv; COMMENT ON VIEW tv2 IS 'c'; "
        'GRANT SELECT ON tv2 TO PUBLIC;',
        "CREATE TABLE t (id int NOT NULL, v int, created date NOT NULL DEFAULT '2020-01-01') PARTITION BY RANGE (created); "
        "CREATE TABLE t_2020 PARTITION OF t FOR VALUES FROM ('2020-01-01') TO ('2021-01-01'); "
        "CREATE VIEW tv AS SELECT id, v FROM t; CREATE VIEW tv2 AS SELECT id FROM tv; COMMENT ON VIEW tv2 IS 'c'; "
        'GRANT SELECT ON tv2 TO PUBLIC;'),
    'to partitioned with matview and index': (
        "CREATE TABLE t (id int NOT NULL, v int, created date NOT NULL DEFAULT '2020-01-01'); "
        'CREATE MATERIALIZED VIEW tm AS SELECT id, v FROM t; CREATE INDEX tm_id ON tm (id); '
        "COMMENT ON MATERIALIZED VIEW tm IS 'm';",
        "CREATE TABLE t (id int NOT NULL, v int, created date NOT NULL DEFAULT '2020-01-01') PARTITION BY RANGE (created); "
        "CREATE TABLE t_2020 PARTITION OF t FOR VALUES FROM ('2020-01-01') TO ('2021-01-01'); "
        'CREATE MATERIALIZED VIEW tm AS SELECT id, v FROM t; CREATE INDEX tm_id ON tm (id); '
        "COMMENT ON MATERIALIZED VIEW tm IS 'm';"),
    'to partitioned referenced by fk': (
        "CREATE TABLE t (id int NOT NULL, v int, created date NOT NULL DEFAULT '2020-01-01'); "
        'ALTER TABLE t ADD PRIMARY KEY (id, created); '
        'CREATE TABLE c (t_id int, t_created date, FOREIGN KEY (t_id, t_created) REFERENCES t);',
        "CREATE TABLE t (id int NOT NULL, v int, created date NOT NULL DEFAULT '2020-01-01') PARTITION BY RANGE (created); "
        "CREATE TABLE t_2020 PARTITION OF t FOR VALUES FROM ('2020-01-01') TO ('2021-01-01'); "
        'ALTER TABLE t ADD PRIMARY KEY (id, created); '
        'CREATE TABLE c (t_id int, t_created date, FOREIGN KEY (t_id, t_created) REFERENCES t);'),
}

INDEXES = {
    'invalid parent index becomes valid': (
        'CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100); '
        'CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200); CREATE INDEX p_v ON ONLY p (v); '
        'CREATE INDEX p1_v ON p1 (v); ALTER INDEX p_v ATTACH PARTITION p1_v;',
        'CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100); '
        'CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200); CREATE INDEX p_v ON p (v);'),
    'invalid parent index attached later': (
        'CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100); '
        'CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200); CREATE INDEX p_v ON ONLY p (v);',
        'CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100); '
        'CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200); CREATE INDEX p_v ON ONLY p (v); '
        'CREATE INDEX p1_v ON p1 (v); ALTER INDEX p_v ATTACH PARTITION p1_v;'),
    'sub-partition pk': (
        'CREATE TABLE p (id int NOT NULL, v int NOT NULL) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY LIST (v); '
        'CREATE TABLE p1a PARTITION OF p1 FOR VALUES IN (1); CREATE UNIQUE INDEX p1a_k ON p1a (id, v);',
        'CREATE TABLE p (id int NOT NULL, v int NOT NULL) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY LIST (v); '
        'CREATE TABLE p1a PARTITION OF p1 FOR VALUES IN (1); ALTER TABLE p ADD PRIMARY KEY (id, v);'),
    'partition pk renamed under parent pk': (
        'CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100); '
        'CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200); ALTER TABLE p ADD PRIMARY KEY (id);',
        'CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100); '
        'CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200); ALTER TABLE p ADD PRIMARY KEY (id); '
        'ALTER INDEX p1_pkey RENAME TO p1_pk_custom;'),
}

IDENTITY = {
    'identity column added to partitioned with partitions': (
        'CREATE TABLE ev (tenant int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at); '
        'CREATE TABLE ev_d PARTITION OF ev DEFAULT; ALTER TABLE ev ENABLE ROW LEVEL SECURITY;',
        'CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, tenant int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at); '
        'CREATE TABLE ev_d PARTITION OF ev DEFAULT; ALTER TABLE ev ENABLE ROW LEVEL SECURITY;'),
    'identity partition attached from standalone': (
        'CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, tenant int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at); '
        'CREATE TABLE ev_d (id bigint NOT NULL, tenant int NOT NULL, at date NOT NULL);',
        'CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, tenant int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at); '
        'CREATE TABLE ev_d PARTITION OF ev DEFAULT;'),
    'identity plain table becomes partitioned': (
        'CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, tenant int NOT NULL, at date NOT NULL); '
        'ALTER TABLE ev ENABLE ROW LEVEL SECURITY;',
        'CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, tenant int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at); '
        'ALTER TABLE ev ENABLE ROW LEVEL SECURITY; CREATE TABLE ev_d PARTITION OF ev DEFAULT;'),
    'identity partition moves to another identity parent': (
        'CREATE TABLE ev (id int GENERATED ALWAYS AS IDENTITY, k int) PARTITION BY LIST (k); '
        'CREATE TABLE ew (id int GENERATED BY DEFAULT AS IDENTITY, k int) PARTITION BY LIST (k); '
        'CREATE TABLE x PARTITION OF ev FOR VALUES IN (1);',
        'CREATE TABLE ev (id int GENERATED ALWAYS AS IDENTITY, k int) PARTITION BY LIST (k); '
        'CREATE TABLE ew (id int GENERATED BY DEFAULT AS IDENTITY, k int) PARTITION BY LIST (k); '
        'CREATE TABLE x PARTITION OF ew FOR VALUES IN (1);'),
}

LOGGED = {
    'cycle to logged': (
        'CREATE UNLOGGED TABLE a (id int PRIMARY KEY, b_id int); '
        'CREATE UNLOGGED TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        'ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;',
        'CREATE TABLE a (id int PRIMARY KEY, b_id int); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        'ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;'),
    'three-cycle to unlogged': (
        'CREATE TABLE a (id int PRIMARY KEY, c_id int); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        'CREATE TABLE c (id int PRIMARY KEY, b_id int REFERENCES b); '
        'ALTER TABLE a ADD FOREIGN KEY (c_id) REFERENCES c;',
        'CREATE UNLOGGED TABLE a (id int PRIMARY KEY, c_id int); '
        'CREATE UNLOGGED TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        'CREATE UNLOGGED TABLE c (id int PRIMARY KEY, b_id int REFERENCES b); '
        'ALTER TABLE a ADD FOREIGN KEY (c_id) REFERENCES c;'),
    'diamond mixed': (
        'CREATE UNLOGGED TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); '
        'CREATE UNLOGGED TABLE c (a_id int REFERENCES a, b_id int REFERENCES b);',
        'CREATE TABLE a (id int PRIMARY KEY); CREATE UNLOGGED TABLE b (id int PRIMARY KEY); '
        'CREATE UNLOGGED TABLE c (a_id int REFERENCES a, b_id int REFERENCES b);'),
    'identity + fk chain unlogged': (
        'CREATE UNLOGGED TABLE a (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, b_id int); '
        'CREATE UNLOGGED TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        "ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b; COMMENT ON CONSTRAINT a_b ON a IS 'cyc';",
        'CREATE TABLE a (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, b_id int); '
        'CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        "ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b; COMMENT ON CONSTRAINT a_b ON a IS 'cyc';"),
    'cycle where one fk changes': (
        'CREATE UNLOGGED TABLE a (id int PRIMARY KEY, b_id int); '
        'CREATE UNLOGGED TABLE b (id int PRIMARY KEY, a_id int REFERENCES a); '
        'ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b;',
        'CREATE TABLE a (id int PRIMARY KEY, b_id int); '
        'CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a ON DELETE CASCADE); '
        'ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b;'),
    'fk dropped while referenced goes unlogged': (
        'CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (a_id int REFERENCES a);',
        'CREATE UNLOGGED TABLE a (id int PRIMARY KEY); CREATE TABLE b (a_id int);'),
}

NOT_NULL = {
    'parent not null renamed with grandchild': (
        'CREATE TABLE a (id int CONSTRAINT a_nn NOT NULL); CREATE TABLE b () INHERITS (a); '
        'CREATE TABLE c () INHERITS (b);',
        'CREATE TABLE a (id int CONSTRAINT a_nn2 NOT NULL); CREATE TABLE b () INHERITS (a); '
        'CREATE TABLE c () INHERITS (b);'),
    'multiple parents one not null': (
        'CREATE TABLE m1 (id int NOT NULL); CREATE TABLE m2 (id int);',
        'CREATE TABLE m1 (id int NOT NULL); CREATE TABLE m2 (id int); CREATE TABLE k (z int) INHERITS (m1, m2);'),
    'table attached as partition keeps own not null name': (
        'CREATE TABLE p (id int NOT NULL) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 (id int CONSTRAINT p1_own NOT NULL);',
        'CREATE TABLE p (id int NOT NULL) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 (id int CONSTRAINT p1_own NOT NULL); '
        'ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (0) TO (10);'),
    'attached sub-partition keeps own names': (
        'CREATE TABLE p (id int NOT NULL, k int NOT NULL) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY LIST (k); '
        'CREATE TABLE p1a (id int CONSTRAINT mine NOT NULL, k int NOT NULL);',
        'CREATE TABLE p (id int NOT NULL, k int NOT NULL) PARTITION BY RANGE (id); '
        'CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY LIST (k); '
        'CREATE TABLE p1a (id int CONSTRAINT mine NOT NULL, k int NOT NULL); '
        'ALTER TABLE p1 ATTACH PARTITION p1a FOR VALUES IN (1);'),
    'inherit keeps own named not null then grandchild': (
        'CREATE TABLE a (id int NOT NULL); CREATE TABLE b (id int CONSTRAINT b_nn NOT NULL);',
        'CREATE TABLE a (id int NOT NULL); CREATE TABLE b (id int CONSTRAINT b_nn NOT NULL); '
        'ALTER TABLE b INHERIT a; CREATE TABLE c () INHERITS (b);'),
}

CASES = {**SCHEMAS, **COLUMNS, **RECREATED, **INDEXES, **IDENTITY, **LOGGED, **NOT_NULL}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trips(any_pg, name: str) -> None:
    a, b = CASES[name]
    corpus.assert_round_trips(any_pg, "classes-a", name, a, b)
