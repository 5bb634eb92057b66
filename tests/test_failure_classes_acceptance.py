"""Failure causes found by running another differ's acceptance cases through the oracle, each with
cases of our own written from PostgreSQL's documented behaviour, both directions.

A sequence dropped under a column default: the default comes off first (DROP SEQUENCE refuses while a
default reads it) and the target's goes on after. Partitions and inheritance children copy their
parent's default, and the parent's ALTER COLUMN (DROP DEFAULT, TYPE, DROP NOT NULL) recurses to
them, so the child's step between the two states must not undo what the parent's ALTER did.

A foreign key that references a partitioned table is cloned by the server for each of its partitions,
and each clone depends on its partition: the key goes before any of those partitions does.

A partitioned table's index made after its partitions adopts their matching indexes, those that
back a partition's own primary key or unique constraint too (`ALTER INDEX … ATTACH PARTITION` where
it was made ON ONLY); no DETACH undoes that, and the parent index is dropped only with CASCADE,
which takes those constraints along: they are added back."""

from __future__ import annotations

import pytest

import corpus

PART = "CREATE TABLE p (x {}, k text) PARTITION BY LIST (k);\nCREATE TABLE p1 PARTITION OF p FOR VALUES IN ('a');\n"
INH = "CREATE TABLE parent (x {});\nCREATE TABLE child (y int) INHERITS (parent);\n"
SEQ = "CREATE SEQUENCE s;\n"

CASES = {
    "partitioned serial becomes text": (PART.format("serial"), PART.format("text")),
    "partitioned serial loses its sequence": (PART.format("serial"), PART.format("int NOT NULL")),
    "partitioned sequence default dropped with the sequence, type and not null change": (
        SEQ + PART.format("int NOT NULL DEFAULT nextval('s')"), PART.format("bigint")),
    "inheritance child of a serial column becomes text": (INH.format("serial"), INH.format("text")),
    "inheritance child keeps a default of its own on a dropped sequence": (
        SEQ + INH.format("int DEFAULT nextval('s')") + "ALTER TABLE child ALTER COLUMN x SET DEFAULT nextval('s');",
        INH.format("bigint") + "ALTER TABLE child ALTER COLUMN x SET DEFAULT 3;"),
}

REF = ("CREATE TABLE r (k int, PRIMARY KEY (k)) PARTITION BY RANGE (k);\n"
       "CREATE TABLE r1 PARTITION OF r FOR VALUES FROM (0) TO (10);\n"
       "CREATE TABLE r2 PARTITION OF r FOR VALUES FROM (10) TO (20);\n")
FK = "CREATE TABLE f (k int REFERENCES r);\n"
PFK = "CREATE TABLE f (k int, x int REFERENCES r) PARTITION BY LIST (k);\nCREATE TABLE f1 PARTITION OF f FOR VALUES IN (1);\n"
CASES.update({
    "referenced partitioned table and its referencing table dropped": (REF + FK, ""),
    "referenced partitioned table dropped, referencing partitioned table kept": (REF + PFK, PFK.replace(" REFERENCES r", "")),
    "referenced partition dropped under a foreign key": (REF + FK, REF.replace(
        "CREATE TABLE r2 PARTITION OF r FOR VALUES FROM (10) TO (20);\n", "") + FK),
})


KEYED = ("CREATE TABLE kp (id int NOT NULL, v text) PARTITION BY LIST (id);\n"
         "CREATE TABLE kp1 PARTITION OF kp FOR VALUES IN (1);\n"
         "CREATE TABLE kp2 PARTITION OF kp FOR VALUES IN (2);\n"
         "CREATE TABLE \"Kp 3\" PARTITION OF kp FOR VALUES IN (3);\n"
         "ALTER TABLE kp2 ADD CONSTRAINT kp2_pkey PRIMARY KEY (id);\n"
         "ALTER TABLE \"Kp 3\" ADD CONSTRAINT \"Kp 3 u\" UNIQUE (id);\n")
UNIQUE = "CREATE UNIQUE INDEX kp_uq ON kp (id);\n"
ONLY = "CREATE UNIQUE INDEX kp_uq ON ONLY kp (id);\nALTER INDEX kp_uq ATTACH PARTITION kp2_pkey;\n"
CASES.update({
    "parent unique index adopts partitions' keys": (KEYED, KEYED + UNIQUE),
    "parent unique index ON ONLY holds one partition's key": (KEYED, KEYED + ONLY),
    "parent unique index over partitions' keys, a foreign key to one of them": (
        KEYED + "CREATE TABLE ref (id int REFERENCES kp2 (id));\n",
        KEYED + "CREATE TABLE ref (id int REFERENCES kp2 (id));\n" + UNIQUE),
    "partitions' keys with comments outlive the parent index": (
        KEYED + "COMMENT ON CONSTRAINT kp2_pkey ON kp2 IS 'kept';\n" + UNIQUE,
        KEYED + "COMMENT ON CONSTRAINT kp2_pkey ON kp2 IS 'kept';\n"),
})


@pytest.mark.parametrize("name", list(CASES))
def test_round_trips(any_pg, name: str) -> None:
    a, b = CASES[name]
    corpus.assert_round_trips(any_pg, "acceptance", name, a, b)
