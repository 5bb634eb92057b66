"""Columns that become or stop being generated are dropped and added again (MySQL has no other
way): the keys, foreign keys (either side) and CHECKs over them must go before and come back
after. Found by the property test on MariaDB 10.11: an index kept across the re-add kept the old
column's key length (`KEY (a(4))` on a new varchar, a stale index the re-diff saw; or ERROR 1089
"Incorrect prefix key" on a new int). A system-versioned table's columns change only with its
history kept as it is. Each case runs both directions through the `mariadb` client with rows in
the tables, then: re-diff empty, oracle equal, rows kept."""

from __future__ import annotations

import hashlib

import pytest

from mariadb_oracle import apply_with_client, database_from, fingerprint, plan_between
from schemashift.dialects.mysql.servers import ThrowawayServer

PARENT = "CREATE TABLE p (id int NOT NULL PRIMARY KEY, c bigint, UNIQUE KEY uc (c));"

CASES = {
    "virtual_int_to_collated_varchar_under_key": (
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int AS (id * 2) VIRTUAL, KEY k (a));",
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a varchar(10) COLLATE utf8mb4_bin, KEY k (a));"),
    "bigint_to_generated_under_key": (
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a bigint unsigned, KEY k (a));",
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int AS (id + 1) STORED, KEY k (a));"),
    "multi_column_unique_and_descending": (
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a varchar(10), b int, UNIQUE KEY u (b, a), KEY k (b, a DESC));",
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int AS (id) VIRTUAL, b int, UNIQUE KEY u (b, a),"
        " KEY k (b, a DESC));"),
    "fulltext_and_hash_unique": (
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a varchar(100), b text, FULLTEXT KEY f (a),"
        " UNIQUE KEY u (b) USING HASH);",
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a varchar(100) AS (concat('x', id)) STORED,"
        " b text AS (concat('y', id)) STORED, FULLTEXT KEY f (a), UNIQUE KEY u (b) USING HASH);"),
    "foreign_key_on_the_child": (
        "CREATE TABLE p (id int NOT NULL PRIMARY KEY); CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int,"
        " FOREIGN KEY (a) REFERENCES p (id));",
        "CREATE TABLE p (id int NOT NULL PRIMARY KEY); CREATE TABLE t (id int NOT NULL PRIMARY KEY,"
        " a int AS (id) STORED, FOREIGN KEY (a) REFERENCES p (id));"),
    "foreign_key_on_the_parent": (
        PARENT + " CREATE TABLE t (id int NOT NULL PRIMARY KEY, a bigint, FOREIGN KEY (a) REFERENCES p (c));",
        PARENT.replace("c bigint", "c bigint AS (id * 2) STORED")
        + " CREATE TABLE t (id int NOT NULL PRIMARY KEY, a bigint, FOREIGN KEY (a) REFERENCES p (c));"),
    "table_check_over_the_column": (
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int, CONSTRAINT c CHECK (`a` > `id` OR `a` IS NULL));",
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int AS (id + 1) VIRTUAL,"
        " CONSTRAINT c CHECK (`a` > `id` OR `a` IS NULL));"),
    "system_versioned_columns_change": (
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int, b int, KEY k (a)) WITH SYSTEM VERSIONING;",
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a varchar(10) AS (id) VIRTUAL, c bigint, KEY k (a))"
        " WITH SYSTEM VERSIONING;"),
    "two_tables_readded_with_a_key_between": (
        "CREATE TABLE p (id int NOT NULL PRIMARY KEY, c int, UNIQUE KEY (c)); CREATE TABLE t (id int NOT NULL"
        " PRIMARY KEY, Ab int, KEY k (Ab), FOREIGN KEY (Ab) REFERENCES p (c), CONSTRAINT ck CHECK (ab >= 0));",
        "CREATE TABLE p (id int NOT NULL PRIMARY KEY, c int AS (id) STORED, UNIQUE KEY (c)); CREATE TABLE t (id int"
        " NOT NULL PRIMARY KEY, Ab int AS (id) STORED, KEY k (Ab), FOREIGN KEY (Ab) REFERENCES p (c),"
        " CONSTRAINT ck CHECK (ab >= 0));"),
}


def _rows(server: ThrowawayServer, database: str) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its ids (the column no case changes)."""
    out = {}
    with server.target.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SHOW FULL TABLES")
        for (table, _) in cur.fetchall():
            cur.execute(f"SELECT id FROM `{table}` ORDER BY id")
            ids = [r[0] for r in cur.fetchall()]
            out[table] = (len(ids), hashlib.sha256(repr(ids).encode()).hexdigest())
    return out


def _fill(server: ThrowawayServer, database: str) -> None:
    """Rows in every table, parents first; a column a case re-adds stays NULL (or is generated)."""
    with server.target.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SHOW FULL TABLES")
        for (table, _) in sorted(cur.fetchall()):
            cur.executemany(f"INSERT INTO `{table}` (id) VALUES (%s)", [(i,) for i in range(1, 51)])
        conn.commit()


@pytest.mark.parametrize("name", sorted(CASES))
def test_readded_column_round_trip(mariadb: ThrowawayServer, name: str) -> None:
    a_sql, b_sql = CASES[name]
    for src, dst in ((a_sql, b_sql), (b_sql, a_sql)):
        a, b = database_from(mariadb, src), database_from(mariadb, dst)
        try:
            _fill(mariadb, a)
            before = _rows(mariadb, a)
            plan = plan_between(mariadb.target, a, b)
            apply_with_client(mariadb.target, a, plan)
            left = plan_between(mariadb.target, a, b)
            assert not left, f"re-diff not empty:\n{left.sql}\n--- plan:\n{plan.sql}"
            assert fingerprint(mariadb.target, a) == fingerprint(mariadb.target, b), plan.sql
            assert _rows(mariadb, a) == before
        finally:
            mariadb.drop(a)
            mariadb.drop(b)
