"""Partitions and inheritance children: columns, indexes, constraints, identity, persistence and
NOT NULL names, each changed both directions through the oracle (empty re-diff, catalog compare).

Written from PostgreSQL's documented behaviour: ALTER on a parent recurses to its children, a
partition's indexes and constraints are attached to its parent's, and a logged table may not
reference an unlogged one."""

from __future__ import annotations

import pytest

import corpus
import oracle

PART = "CREATE TABLE p (id int NOT NULL, v int, s text) PARTITION BY RANGE (id);\n"
P1 = "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);\n"
P2 = "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);\n"
INH = "CREATE TABLE parent (id int, v int, s text);\nCREATE TABLE child (extra int) INHERITS (parent);\n"

COLUMNS = {  # class 2: type, default and NOT NULL changes on a parent reach its children by themselves
    "partition column type": (PART + P1 + P2, PART.replace("v int", "v bigint") + P1 + P2),
    "partition column default": (PART + P1, PART.replace("v int", "v int DEFAULT 7") + P1),
    "partition column not null": (PART + P1 + P2, PART.replace("v int", "v int NOT NULL") + P1 + P2),
    "partition default of its own": (PART + P1, PART + P1 + "ALTER TABLE p1 ALTER COLUMN v SET DEFAULT 3;"),
    "sub-partition column type": (
        PART + "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100) PARTITION BY LIST (v);"
        "CREATE TABLE p1a PARTITION OF p1 FOR VALUES IN (1);",
        PART.replace("s text", "s varchar(20)")
        + "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100) PARTITION BY LIST (v);"
        "CREATE TABLE p1a PARTITION OF p1 FOR VALUES IN (1);"),
    "inherited column type": (INH, INH.replace("v int", "v bigint")),
    "inherited column default": (INH, INH.replace("v int", "v int DEFAULT 1")),
    "inherited column not null": (INH, INH.replace("v int", "v int NOT NULL")),
    "child default of its own": (INH, INH + "ALTER TABLE child ALTER COLUMN v SET DEFAULT 5;"),
    "child default differs from parent's": (
        INH.replace("v int", "v int DEFAULT 1"),
        INH.replace("v int", "v int DEFAULT 2") + "ALTER TABLE child ALTER COLUMN v SET DEFAULT 9;"),
    "parent default dropped, child keeps one": (
        INH.replace("v int", "v int DEFAULT 1"),
        INH + "ALTER TABLE child ALTER COLUMN v SET DEFAULT 1;"),
    "partition keeps a default its parent drops": (
        PART.replace("v int", "v int DEFAULT 4") + P1 + P2,
        PART + P1 + P2 + "ALTER TABLE p2 ALTER COLUMN v SET DEFAULT 4;"),
    "parent not null dropped, child keeps its own": (
        INH.replace("v int", "v int NOT NULL").replace("(extra int)", "(v int NOT NULL, extra int)"),
        INH.replace("(extra int)", "(v int NOT NULL, extra int)")),
    "two children column type": (
        INH + "CREATE TABLE child2 () INHERITS (parent);",
        INH.replace("s text", "s varchar(30)") + "CREATE TABLE child2 () INHERITS (parent);"),
}

IDX = PART + P1
INDEXES = {  # class 4: a partition's own index or constraint and its parent's
    "parent pk over partition's matching unique index": (
        IDX + "CREATE UNIQUE INDEX p1_id_key ON p1 (id);",
        IDX + "CREATE UNIQUE INDEX p1_id_key ON p1 (id); ALTER TABLE p ADD PRIMARY KEY (id);"),
    "parent index over partition's matching index": (
        IDX + "CREATE INDEX p1_v_idx ON p1 (v);",
        IDX + "CREATE INDEX p1_v_idx ON p1 (v); CREATE INDEX p_v_idx ON p (v);"),
    "parent index dropped, partition keeps its own": (
        IDX + "CREATE INDEX p_v_idx ON p (v);",
        IDX + "CREATE INDEX p1_v_idx ON p1 (v);"),
    "parent index on only, attached later": (
        IDX + "CREATE INDEX p_v_idx ON ONLY p (v); CREATE INDEX p1_v_idx ON p1 (v);",
        IDX + "CREATE INDEX p_v_idx ON ONLY p (v); CREATE INDEX p1_v_idx ON p1 (v);"
        "ALTER INDEX p_v_idx ATTACH PARTITION p1_v_idx;"),
    "parent unique constraint dropped, partition keeps an index": (
        IDX + "ALTER TABLE p ADD CONSTRAINT p_id_key UNIQUE (id);",
        IDX + "CREATE UNIQUE INDEX p1_id_key ON p1 (id);"),
    "parent pk with partition pk of its own": (
        IDX + "ALTER TABLE p1 ADD CONSTRAINT p1_pkey PRIMARY KEY (id);",
        IDX + "ALTER TABLE p ADD CONSTRAINT p_pkey PRIMARY KEY (id);"),
    "parent check dropped, partition keeps it": (
        IDX + "ALTER TABLE p ADD CONSTRAINT v_pos CHECK (v > 0);",
        IDX + "ALTER TABLE p1 ADD CONSTRAINT v_pos CHECK (v > 0);"),
    "inherited check kept on child": (
        INH + "ALTER TABLE parent ADD CONSTRAINT v_pos CHECK (v > 0);",
        INH + "ALTER TABLE child ADD CONSTRAINT v_pos CHECK (v > 0);"),
    "parent index over two partitions, one attached later": (
        IDX + P2 + "CREATE INDEX p_v_idx ON ONLY p (v); CREATE INDEX p1_v_idx ON p1 (v);"
        "ALTER INDEX p_v_idx ATTACH PARTITION p1_v_idx; CREATE INDEX p2_v_idx ON p2 (v);",
        IDX + P2 + "CREATE INDEX p_v_idx ON p (v);"),
    "sub-partition index attached to its parent's": (
        PART + "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100) PARTITION BY LIST (v);"
        "CREATE TABLE p1a PARTITION OF p1 FOR VALUES IN (1); CREATE INDEX p_s_idx ON p (s);",
        PART + "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100) PARTITION BY LIST (v);"
        "CREATE TABLE p1a PARTITION OF p1 FOR VALUES IN (1); CREATE INDEX p1a_s_idx ON p1a (s);"),
    "parent unique constraint with partitions' own unique indexes": (
        IDX + P2 + "CREATE UNIQUE INDEX p1_id_key ON p1 (id); CREATE UNIQUE INDEX p2_id_key ON p2 (id);",
        IDX + P2 + "ALTER TABLE p ADD CONSTRAINT p_id_key UNIQUE (id);"),
}

IDENTITY = {  # class 10: a partition takes its parent's identity (17+) and must not be given one
    "identity tree with rls created": (
        "",
        "CREATE TABLE p (id bigint GENERATED ALWAYS AS IDENTITY, v int) PARTITION BY LIST (v);"
        "ALTER TABLE p ENABLE ROW LEVEL SECURITY; ALTER TABLE p FORCE ROW LEVEL SECURITY;"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2);"
        "CREATE POLICY mine ON p USING (v = 1);"),
    "identity options changed on a partitioned table": (
        "CREATE TABLE p (id int GENERATED BY DEFAULT AS IDENTITY, v int) PARTITION BY LIST (v);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);",
        "CREATE TABLE p (id int GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5), v int) PARTITION BY LIST (v);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);"),
    "partition of a table with identity and rls": (
        "CREATE TABLE p (id int GENERATED ALWAYS AS IDENTITY, v int) PARTITION BY RANGE (v);"
        "ALTER TABLE p ENABLE ROW LEVEL SECURITY;",
        "CREATE TABLE p (id int GENERATED ALWAYS AS IDENTITY, v int) PARTITION BY RANGE (v);"
        "ALTER TABLE p ENABLE ROW LEVEL SECURITY;"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
        "ALTER TABLE p1 ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY own ON p1 USING (v > 0);"),
    "identity added to a partitioned table": (
        "CREATE TABLE p (id int NOT NULL, v int) PARTITION BY RANGE (v);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);",
        "CREATE TABLE p (id int GENERATED BY DEFAULT AS IDENTITY, v int) PARTITION BY RANGE (v);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"),
}

LOGGED = {  # class 11: persistence changes ordered by the foreign keys between the tables
    "referenced and referencing go logged": (
        "CREATE UNLOGGED TABLE a (id int PRIMARY KEY);"
        "CREATE UNLOGGED TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);"
        "CREATE UNLOGGED TABLE c (b_id int REFERENCES b);",
        "CREATE TABLE a (id int PRIMARY KEY);"
        "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);"
        "CREATE TABLE c (b_id int REFERENCES b);"),
    "self reference goes logged": (
        "CREATE UNLOGGED TABLE a (id int PRIMARY KEY, up int REFERENCES a);",
        "CREATE TABLE a (id int PRIMARY KEY, up int REFERENCES a);"),
}

NOT_NULL = {  # class 12: PostgreSQL 18 names inherited NOT NULL constraints
    "child created inheriting": (
        "CREATE TABLE parent (id int NOT NULL, v int);",
        "CREATE TABLE parent (id int NOT NULL, v int); CREATE TABLE child () INHERITS (parent);"),
    "child with a local not null of its own name": (
        "CREATE TABLE parent (id int NOT NULL);",
        "CREATE TABLE parent (id int NOT NULL);"
        "CREATE TABLE child (id int CONSTRAINT child_own NOT NULL) INHERITS (parent);"),
    "existing table inherits": (
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child (id int NOT NULL);",
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child (id int NOT NULL);"
        "ALTER TABLE child INHERIT parent;"),
    "named parent not null": (
        "CREATE TABLE parent (id int CONSTRAINT parent_id_nn NOT NULL); CREATE TABLE child () INHERITS (parent);",
        "CREATE TABLE parent (id int CONSTRAINT parent_id_nn2 NOT NULL); CREATE TABLE child () INHERITS (parent);"),
    "partition not null": (
        "CREATE TABLE p (id int CONSTRAINT p_id_nn NOT NULL) PARTITION BY RANGE (id);",
        "CREATE TABLE p (id int CONSTRAINT p_id_nn NOT NULL) PARTITION BY RANGE (id);" + P1),
    "child with its own column no longer inherits": (
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child (id int NOT NULL) INHERITS (parent);",
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child (id int NOT NULL);"),
    "child with its own named not null no longer inherits": (
        "CREATE TABLE parent (id int CONSTRAINT parent_nn NOT NULL);"
        "CREATE TABLE child (id int CONSTRAINT child_nn NOT NULL, x int) INHERITS (parent);",
        "CREATE TABLE parent (id int CONSTRAINT parent_nn NOT NULL);"
        "CREATE TABLE child (id int CONSTRAINT child_nn NOT NULL, x int);"),
    "partition detached": (
        "CREATE TABLE p (id int CONSTRAINT p_id_nn NOT NULL) PARTITION BY RANGE (id);" + P1,
        "CREATE TABLE p (id int CONSTRAINT p_id_nn NOT NULL) PARTITION BY RANGE (id);"
        "CREATE TABLE p1 (id int NOT NULL);"),
    "not null added on the parent": (
        "CREATE TABLE parent (id int); CREATE TABLE child () INHERITS (parent);",
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child () INHERITS (parent);"),
}

CASES = {**COLUMNS, **INDEXES, **IDENTITY, **LOGGED, **NOT_NULL}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trips(any_pg, name: str) -> None:
    a, b = CASES[name]
    corpus.assert_round_trips(any_pg, "partitions", name, a, b)


ONE_WAY = {  # an inherited-only column cannot become inherited-only again: these run one way
    "inherited-only column no longer inherits": (
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child () INHERITS (parent);",
        "CREATE TABLE parent (id int NOT NULL); CREATE TABLE child (id int NOT NULL);"),
    "inherited-only named not null no longer inherits": (
        "CREATE TABLE parent (id int CONSTRAINT parent_nn NOT NULL); CREATE TABLE child (x int) INHERITS (parent);",
        "CREATE TABLE parent (id int CONSTRAINT parent_nn NOT NULL);"
        "CREATE TABLE child (id int CONSTRAINT kid_nn NOT NULL, x int);"),
}


@pytest.mark.parametrize("name", list(ONE_WAY))
def test_one_way(pg18, name: str) -> None:
    """A → B applied, then the oracle: an empty re-diff and the same catalogs."""
    a, b = (pg18.load(sql) for sql in ONE_WAY[name])
    try:
        assert oracle.roundtrip(pg18.url(a), pg18.url(b), label="A->B") == []
    finally:
        pg18.drop(a)
        pg18.drop(b)
