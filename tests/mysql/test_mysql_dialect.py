"""The MySQL dialect against a real MariaDB: hand-written round trips applied with the `mariadb`
client and judged by the oracle in mariadb_oracle.py, rows kept through a change, the fixed number
of inspection queries, the statement splitter, and bad input as one-line errors."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from mariadb_oracle import apply_with_client, assert_round_trip, database_from, fingerprint, plan_between
from schemashift.dialects.mysql import servers
from schemashift.dialects.mysql.dialect import diff_mysql
from schemashift.dialects.mysql.inspect import inspect_connection
from schemashift.dialects.mysql.loader import load_path, load_text
from schemashift.dialects.mysql.render import client_script
from schemashift.dialects.mysql.servers import Target, ThrowawayServer
from schemashift.dialects.mysql.sqltext import split
from schemashift.errors import LoadError, ServerError, SourceError

ROUND_TRIPS = {
    "columns_every_attribute": (
        "CREATE TABLE t (id int PRIMARY KEY, a int, b varchar(10), c timestamp NULL);",
        "CREATE TABLE t (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, a int NOT NULL DEFAULT 7 COMMENT 'seven',"
        " b varchar(40) CHARACTER SET latin1 COLLATE latin1_bin, c timestamp DEFAULT CURRENT_TIMESTAMP"
        " ON UPDATE CURRENT_TIMESTAMP, d int DEFAULT (a * 2) INVISIBLE, e int AS (a + 1) VIRTUAL,"
        " f int AS (a + 2) PERSISTENT, g enum('x','y') DEFAULT 'y', h json);"),
    "defaults_of_every_kind": (
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int, a varchar(10) DEFAULT concat('a', 'b'), b date DEFAULT curdate(), c char(36) DEFAULT uuid(),"
        " d bit(3) DEFAULT b'101', e varbinary(4) DEFAULT 0x6162, f datetime(6) DEFAULT current_timestamp(6),"
        " g decimal(5,2) DEFAULT -1.5, h varchar(10) DEFAULT 'it''s \\\\ ok', i double DEFAULT 1e3, j int DEFAULT (id + 1),"
        " k text DEFAULT 'long', l varchar(3) NOT NULL DEFAULT '');"),
    "same_names_changed": (
        "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, a int, b varchar(10), CONSTRAINT c CHECK (a > 0),"
        " KEY k (a), UNIQUE KEY u (b));",
        "CREATE TABLE t (id int NOT NULL, a int NOT NULL, b varchar(10), CONSTRAINT c CHECK (a > 5),"
        " KEY k (a, b), UNIQUE KEY u (b, a), PRIMARY KEY (a, id));"),
    "table_charset_converted": (
        "CREATE TABLE t (a varchar(10), b text, c int) DEFAULT CHARSET=latin1;",
        "CREATE TABLE t (a varchar(10), b text, c int) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;"),
    "system_versioning": (
        "CREATE TABLE t (id int PRIMARY KEY, a int);",
        "CREATE TABLE t (id int PRIMARY KEY, a int) WITH SYSTEM VERSIONING;"),
    "trigger_order": (
        "CREATE TABLE t (a int); CREATE TRIGGER z BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;"
        " CREATE TRIGGER y BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a + 1;",
        "CREATE TABLE t (a int); CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 0;"
        " CREATE TRIGGER y BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a + 1;"
        " CREATE TRIGGER z BEFORE INSERT ON t FOR EACH ROW FOLLOWS y SET NEW.a = 1;"
        " CREATE TRIGGER w BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a * 3;"),
    "odd_names": (
        "CREATE TABLE `Tab ``q`` é` (`Col A` int, `ü` text);",
        "CREATE TABLE `Tab ``q`` é` (`Col A` int, `new col` double, KEY `Idx ``x``` (`new col`),"
        " CONSTRAINT `A > 0` CHECK (`Col A` > 0)); CREATE VIEW `v w` AS SELECT `Col A` FROM `Tab ``q`` é`;"),
    "keys_of_every_kind": (
        "CREATE TABLE t (id int NOT NULL, a varchar(100), b text, p point NOT NULL, KEY ka (a));",
        "CREATE TABLE t (id int NOT NULL, a varchar(100), b text, p point NOT NULL, PRIMARY KEY (id) COMMENT 'pk',"
        " UNIQUE KEY ua (a(20), id DESC), FULLTEXT KEY fb (b), SPATIAL KEY sp (p), KEY kb (b(10)) COMMENT 'prefix',"
        " UNIQUE KEY long_b (b) USING HASH) ENGINE=InnoDB;"),
    "checks_column_and_table": (
        "CREATE TABLE t (a int CHECK (a > 0), b int, CONSTRAINT bc CHECK (b < 10));",
        "CREATE TABLE t (a int CHECK (a > 1), b int CHECK (b <> 3), CONSTRAINT ab CHECK (a < b));"),
    "foreign_keys_cycle_and_actions": (
        "CREATE TABLE p (id int PRIMARY KEY, c_id int); CREATE TABLE c (id int PRIMARY KEY, p_id int);",
        "CREATE TABLE p (id int PRIMARY KEY, c_id int, CONSTRAINT p_c FOREIGN KEY (c_id) REFERENCES c (id));"
        " CREATE TABLE c (id int PRIMARY KEY, p_id int, FOREIGN KEY (p_id) REFERENCES p (id)"
        " ON DELETE CASCADE ON UPDATE SET NULL);"),
    "referenced_column_retyped": (
        "CREATE TABLE p (id int PRIMARY KEY, code varchar(10) UNIQUE); CREATE TABLE c (p_code varchar(10),"
        " FOREIGN KEY (p_code) REFERENCES p (code));",
        "CREATE TABLE p (id bigint PRIMARY KEY, code varchar(20) UNIQUE); CREATE TABLE c (p_code varchar(20),"
        " n int, FOREIGN KEY (p_code) REFERENCES p (code));"),
    "views_triggers_routines_events": (
        "CREATE TABLE t (a int, b int); CREATE TABLE log (x int); CREATE VIEW v AS SELECT a FROM t;"
        " CREATE VIEW w AS SELECT * FROM v;",
        "CREATE TABLE t (a int, c int); CREATE TABLE log (x int); CREATE VIEW v AS SELECT a, c FROM t WHERE a > 0"
        " WITH CHECK OPTION; CREATE VIEW w AS SELECT * FROM v;"
        " CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a < 0 THEN SET NEW.a = 0; END IF;"
        " INSERT INTO log VALUES (NEW.a); END;"
        " CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2;"
        " CREATE PROCEDURE fill(IN n int, OUT done int) COMMENT 'fills' BEGIN DECLARE i int DEFAULT 0;"
        " WHILE i < n DO INSERT INTO log VALUES (twice(i)); SET i = i + 1; END WHILE; SET done = i; END;"
        " CREATE EVENT cleanup ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DO DELETE FROM log;"),
    "partitions": (
        "CREATE TABLE r (id int NOT NULL, d date NOT NULL, PRIMARY KEY (id, d));"
        " CREATE TABLE l (id int NOT NULL) PARTITION BY LIST (id) (PARTITION a VALUES IN (1, 2), PARTITION b VALUES IN (3));",
        "CREATE TABLE r (id int NOT NULL, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (year(d))"
        " (PARTITION p2020 VALUES LESS THAN (2021), PARTITION pmax VALUES LESS THAN MAXVALUE);"
        " CREATE TABLE l (id int NOT NULL);"),
    "table_options": (
        "CREATE TABLE t (a int) ENGINE=InnoDB; CREATE TABLE m (a int) ENGINE=MyISAM;",
        "CREATE TABLE t (a int) ENGINE=InnoDB ROW_FORMAT=COMPRESSED COMMENT='the t' DEFAULT CHARSET=latin1;"
        " CREATE TABLE m (a int) ENGINE=InnoDB STATS_PERSISTENT=0;"),
    "drop_and_create_tables_with_references": (
        "CREATE TABLE gone_parent (id int PRIMARY KEY); CREATE TABLE gone_child (p int, FOREIGN KEY (p)"
        " REFERENCES gone_parent (id)); CREATE TABLE keep (a int UNIQUE);",
        "CREATE TABLE keep (a int UNIQUE); CREATE TABLE fresh (id int PRIMARY KEY, k int, FOREIGN KEY (k) REFERENCES keep (a));"),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_round_trip(mariadb: ThrowawayServer, name: str) -> None:
    assert_round_trip(mariadb, *ROUND_TRIPS[name])


def test_one_combined_alter_per_table(mariadb: ThrowawayServer) -> None:
    """Every change to one table's columns, keys and options is one ALTER TABLE; foreign keys are
    dropped before it and added after it."""
    a = database_from(mariadb, "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int, a int, b int, KEY kb (b));")
    b = database_from(mariadb, "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int, a bigint, c int,"
                               " KEY kc (c), FOREIGN KEY (id) REFERENCES p (id)) COMMENT 'x';")
    try:
        statements = plan_between(mariadb.target, a, b).statements
        alters = [s.sql for s in statements if s.sql.startswith("ALTER TABLE `t`") and "FOREIGN KEY" not in s.sql]
        assert len(alters) == 1, alters
        for clause in ("DROP INDEX `kb`", "DROP COLUMN `b`", "MODIFY COLUMN `a` bigint(20)", "ADD COLUMN `c`",
                       "ADD KEY `kc`", "COMMENT='x'"):
            assert clause in alters[0]
        assert "ADD CONSTRAINT" in statements[-1].sql
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


def test_rows_survive_the_change(mariadb: ThrowawayServer) -> None:
    """10,000 rows in a referenced table through a type change, a dropped column and an added
    foreign key in one plan: row counts and a checksum of the kept columns are equal."""
    a_sql = ("CREATE TABLE owner (id int PRIMARY KEY);"
             " CREATE TABLE parent (id int PRIMARY KEY, name varchar(20), amount int, junk text, owner int);"
             " CREATE TABLE child (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id));")
    b_sql = ("CREATE TABLE owner (id int PRIMARY KEY);"
             " CREATE TABLE parent (id int PRIMARY KEY, name varchar(20), amount decimal(12,2), owner int,"
             " FOREIGN KEY (owner) REFERENCES owner (id));"
             " CREATE TABLE child (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id));")
    a, b = database_from(mariadb, a_sql), database_from(mariadb, b_sql)

    def kept() -> tuple[int, str, int]:
        with mariadb.target.connect(a) as conn, conn.cursor() as cur:
            cur.execute("SELECT id, name, CAST(amount AS SIGNED), owner FROM parent ORDER BY id")
            rows = cur.fetchall()
            cur.execute("SELECT count(*) FROM child")
            return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest(), cur.fetchone()[0]

    try:
        with mariadb.target.connect(a) as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO owner VALUES (%s)", [(i,) for i in range(100)])
            cur.executemany("INSERT INTO parent VALUES (%s, %s, %s, %s, %s)",
                            [(i, f"n{i}", i * 7, "x" * (i % 5), i % 100) for i in range(10_000)])
            cur.executemany("INSERT INTO child VALUES (%s, %s)", [(i, i % 10_000) for i in range(2_000)])
        before = kept()
        assert before[0] == 10_000
        plan = plan_between(mariadb.target, a, b)
        assert plan.destructive  # the dropped column is refused without --unsafe
        apply_with_client(mariadb.target, a, plan)
        assert kept() == before
        assert not plan_between(mariadb.target, a, b)
        assert fingerprint(mariadb.target, a) == fingerprint(mariadb.target, b)
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


def _questions(conn: object) -> int:
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SHOW SESSION STATUS LIKE 'Questions'")
        return int(cur.fetchone()[1])


def test_inspection_runs_a_fixed_number_of_queries(mariadb: ThrowawayServer) -> None:
    """The number of queries does not grow with the number of tables."""
    counts = []
    for n in (1, 40):
        db = database_from(mariadb, "".join(
            f"CREATE TABLE t{i} (id int PRIMARY KEY, a int UNIQUE, CHECK (a > 0)); CREATE VIEW v{i} AS SELECT a FROM t{i};"
            for i in range(n)))
        try:
            with mariadb.target.connect(db) as conn:
                start = _questions(conn)
                schema = inspect_connection(conn)
                counts.append(_questions(conn) - start)
            assert len([k for k in schema.objects if k[0] == "table"]) == n
        finally:
            mariadb.drop(db)
    assert counts[0] == counts[1] <= 20, counts


def test_spellings_the_server_treats_alike_compare_equal(mariadb: ThrowawayServer) -> None:
    a = database_from(mariadb, "create table t (id integer primary key, a INT(11) default 1, b varchar(5) unique,"
                               " c int references t(id)); create view v as select id from t;")
    b = database_from(mariadb, "CREATE TABLE `t` (`id` int NOT NULL, `a` int DEFAULT '1', `b` VARCHAR(5),"
                               " `c` int, PRIMARY KEY (`id`), UNIQUE KEY `b` (`b`), FOREIGN KEY (c) REFERENCES t (id)); CREATE VIEW v AS SELECT `t`.`id` FROM t;")
    try:
        assert not plan_between(mariadb.target, a, b)
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


def test_diff_mysql_between_urls(mariadb: ThrowawayServer) -> None:
    a = database_from(mariadb, "CREATE TABLE t (a int);")
    b = database_from(mariadb, "CREATE TABLE t (a int, b int);")
    try:
        sock = mariadb.target.unix_socket
        plan = diff_mysql(f"mysql://root@localhost/{a}?unix_socket={sock}", f"mariadb+pymysql://root@localhost/{b}?unix_socket={sock}")
        assert plan.sql == "ALTER TABLE `t`\n  ADD COLUMN `b` int(11) NULL DEFAULT NULL AFTER `a`;\n\n"
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


def test_split_statements() -> None:
    """`;` in strings, comments and compound bodies does not end a statement; DELIMITER does."""
    script = ("CREATE TABLE t (a varchar(3) DEFAULT ';'); --\n-- a comment; still one\n"
              "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n  IF NEW.a = 'x' THEN SET NEW.a = 'y'; END IF;\n"
              "  CASE WHEN 1 THEN SET @x = 1; END CASE;\nEND;\n"
              "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n/* ; */ SELECT 'a;b';\n")
    pieces = split(script)
    assert [p.line for p in pieces] == [1, 3, 8, 10]
    assert pieces[1].sql.endswith("END CASE;\nEND") and pieces[2].sql == "CREATE PROCEDURE p() BEGIN SELECT 1; END"
    assert pieces[3].sql == "SELECT 'a;b'"  # a comment before a statement is not part of it


def test_client_script_wraps_compound_bodies(mariadb: ThrowawayServer) -> None:
    a = database_from(mariadb, "CREATE TABLE t (a int);")
    b = database_from(mariadb, "CREATE TABLE t (a int); CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW"
                               " BEGIN SET NEW.a = 1; END;")
    try:
        text = client_script(plan_between(mariadb.target, a, b).statements)
        assert text.startswith("DELIMITER $$\nCREATE TRIGGER `tr`") and text.endswith("END$$\nDELIMITER ;\n\n")
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


def test_malformed_sql_names_file_and_line(mariadb: ThrowawayServer, tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  id int,\n  x REFRENCES a\n);\n")
    db = mariadb.create()
    try:
        with pytest.raises(LoadError) as err:
            load_path(mariadb.target, db, tmp_path / "schema.sql")
        assert str(err.value).startswith(f"{tmp_path / 'schema.sql'}:5: ") and "\n" not in str(err.value)
        with pytest.raises(SourceError, match="missing.sql: no such file"):
            load_path(mariadb.target, db, tmp_path / "missing.sql")
    finally:
        mariadb.drop(db)


def test_unreachable_server_is_one_line_without_password() -> None:
    with pytest.raises(SourceError) as err:
        diff_mysql("mysql://app:s3cret@127.0.0.1:1/db", "mysql://app:s3cret@127.0.0.1:1/db")
    assert "cannot connect to MySQL at app@127.0.0.1:1" in str(err.value)
    assert "s3cret" not in str(err.value) and "\n" not in str(err.value)


def test_no_server_binary_names_package_and_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "SERVER_BINARIES", ("/nonexistent/mariadbd",))
    with pytest.raises(ServerError, match="`mariadb-server`.*--dev-url"):
        servers.find_server_binary()


def test_dev_url_scratch_databases(mariadb: ThrowawayServer) -> None:
    """`--dev-url` puts scratch databases on a server the user runs."""
    scratch = servers.get_server(f"mysql://root@localhost/?unix_socket={mariadb.target.unix_socket}")
    name = scratch.create()
    try:
        load_text(scratch.target, name, "CREATE TABLE t (a int);")
        assert isinstance(scratch.target, Target)
        with scratch.target.connect(name) as conn:
            assert ("table", "db", "t") in inspect_connection(conn).objects
    finally:
        scratch.drop(name)


def test_destructive_statements_are_marked(mariadb: ThrowawayServer) -> None:
    """Drops and narrowing type changes are destructive (refused without --unsafe); a longer
    varchar, a bigger integer, a new index are not."""
    a = database_from(mariadb, "CREATE TABLE t (a varchar(10), b int, c varchar(10), d int); CREATE TABLE gone (x int);")
    b = database_from(mariadb, "CREATE TABLE t (a varchar(20), b bigint, c varchar(5), KEY ka (a));")
    try:
        plan = plan_between(mariadb.target, a, b)
        alter, drop = sorted(s.why for s in plan.destructive)
        assert drop == "drops table gone and its rows"
        assert alter == "drops column t.d and its values, changes t.c from varchar(10) to varchar(5)"
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


_NAMES = ["a", "B", "c d", "q`x", "é"]
_TYPES = ["int", "bigint unsigned", "varchar(20)", "varchar(40) CHARACTER SET latin1", "text", "decimal(8,2)",
          "datetime", "enum('x','y')", "double", "timestamp DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
          "int AS (id * 2) VIRTUAL", "int AS (id + 1) STORED", "int INVISIBLE", "varchar(10) COLLATE utf8mb4_bin"]


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _schemas():  # type: ignore[no-untyped-def]
    """A small random schema: tables with random columns (defaults, NOT NULL, comments, CHECKs),
    keys, foreign keys to earlier tables, a view and a trigger."""
    from hypothesis import strategies as st

    @st.composite
    def schema(draw) -> str:  # type: ignore[no-untyped-def]
        out: list[str] = []
        made: list[str] = []
        for table in draw(st.lists(st.sampled_from(["t", "Tab X", "q`t"]), min_size=1, max_size=3, unique=True)):
            cols = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4, unique=True))
            parts = ["id int NOT NULL PRIMARY KEY"]
            for col in cols:
                ctype = draw(st.sampled_from(_TYPES))
                sql = f"{_q(col)} {ctype}"
                if draw(st.booleans()) and ctype.split()[0] not in ("text", "datetime", "timestamp") and " AS " not in ctype:
                    sql += " NOT NULL DEFAULT " + ("'x'" if "enum" in ctype else "'1'")
                if draw(st.integers(0, 3)) == 0:
                    sql += " COMMENT 'c'"
                if draw(st.integers(0, 3)) == 0 and " AS " not in ctype:
                    sql += f" CHECK ({_q(col)} IS NOT NULL)"
                parts.append(sql)
            if draw(st.booleans()):
                order = draw(st.sampled_from(["", " DESC"]))
                parts.append(f"KEY {_q(table + ' k')} ({_q(cols[-1])}{'(5)' if 'text' in parts[-1] else ''}{order})")
            if made and draw(st.booleans()):
                parts.append(f"ref int, FOREIGN KEY (ref) REFERENCES {draw(st.sampled_from(made))} (id)"
                             + draw(st.sampled_from(["", " ON DELETE CASCADE", " ON UPDATE SET NULL"])))
            out.append(f"CREATE TABLE {_q(table)} ({', '.join(parts)}){draw(st.sampled_from(['', ' COMMENT=' + repr('t')]))};")
            made.append(_q(table))
            if draw(st.booleans()):
                out.append(f"CREATE VIEW {_q(table + ' v')} AS SELECT {_q(cols[0])} FROM {_q(table)};")
            if draw(st.booleans()):
                out.append(f"CREATE TRIGGER {_q(table + ' tr')} BEFORE UPDATE ON {_q(table)} FOR EACH ROW"
                           f" BEGIN SET NEW.id = OLD.id; END;")
        return "\n".join(out)

    return schema()


def test_property_random_schemas_round_trip(mariadb: ThrowawayServer) -> None:
    """Any two random schemas: each direction's plan, applied with the client, gives the target."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_schemas(), _schemas())
    def check(a_sql: str, b_sql: str) -> None:
        assert_round_trip(mariadb, a_sql, b_sql)

    check()


def test_wrong_dialect_is_one_clear_error(mariadb: ThrowawayServer, tmp_path: Path) -> None:
    """A PostgreSQL file fails to load at its line; a PostgreSQL URL is refused by name."""
    (tmp_path / "pg.sql").write_text("CREATE SCHEMA app;\nCREATE TABLE t (\n  id int,\n  at timestamptz\n);\n")
    db = mariadb.create()
    try:
        with pytest.raises(LoadError, match=r"pg\.sql:1: CREATE SCHEMA app: refused"):
            load_path(mariadb.target, db, tmp_path / "pg.sql")  # CREATE SCHEMA is CREATE DATABASE here
        (tmp_path / "pg.sql").write_text("CREATE TABLE t (\n  id int,\n  at timestamptz\n);\n")
        with pytest.raises(LoadError, match=r"pg\.sql:3: .*timestamptz"):
            load_path(mariadb.target, db, tmp_path / "pg.sql")
        with mariadb.target.connect() as conn, conn.cursor() as cur:
            assert not cur.execute("SHOW DATABASES LIKE 'app'")  # nothing changed on the server
    finally:
        mariadb.drop(db)
    with pytest.raises(SourceError, match="not a MySQL URL: postgresql://u@h/db"):
        diff_mysql("postgresql://u@h/db", "postgresql://u@h/db")


def test_view_reads_only_relations(mariadb: ThrowawayServer) -> None:
    """A view depends on what its query reads, not on a view named like one of its columns: two
    views each with a column named after the other can be created in one plan."""
    a = database_from(mariadb, "CREATE TABLE t (v1 int, v2 int);")
    b = database_from(mariadb, "CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2;"
                               " CREATE TABLE t (v1 int, v2 int); CREATE VIEW v1 AS SELECT v2 FROM t;"
                               " CREATE VIEW v2 AS SELECT v1, twice(v1) FROM t;")
    try:
        with mariadb.target.connect(b) as conn:
            schema = inspect_connection(conn)
        assert schema.dependencies(("view", "db", "v2")) == {("table", "db", "t"), ("routine", "db", "FUNCTION twice")}
        apply_with_client(mariadb.target, a, plan_between(mariadb.target, a, b))
        assert not plan_between(mariadb.target, a, b)
    finally:
        mariadb.drop(a)
        mariadb.drop(b)


def test_url_without_database_is_one_error(mariadb: ThrowawayServer) -> None:
    with pytest.raises(SourceError, match="no database to inspect"):
        diff_mysql(f"mysql://root@localhost/?unix_socket={mariadb.target.unix_socket}", "mysql://root@127.0.0.1:1/x")


def test_a_dump_loads_and_equals_its_database(mariadb: ThrowawayServer, tmp_path: Path) -> None:
    """`mariadb-dump --no-data` output (executable comments, DELIMITER ;; around triggers and
    routines, views written twice) loads, and compares equal to the database it came from."""
    source = database_from(mariadb, ROUND_TRIPS["views_triggers_routines_events"][1]
                           + ROUND_TRIPS["foreign_keys_cycle_and_actions"][1])
    copy = mariadb.create()
    try:
        dump = subprocess.run(["mariadb-dump", "--no-defaults", f"--socket={mariadb.target.unix_socket}",
                               "--user=root", "--no-data", "--routines", "--events", "--triggers", source],
                              check=True, capture_output=True, text=True).stdout
        (tmp_path / "dump.sql").write_text(dump)
        load_path(mariadb.target, copy, tmp_path / "dump.sql")
        assert not plan_between(mariadb.target, source, copy)
        assert fingerprint(mariadb.target, source) == fingerprint(mariadb.target, copy)
    finally:
        mariadb.drop(source)
        mariadb.drop(copy)


def test_a_sequence_is_refused_by_name(mariadb: ThrowawayServer) -> None:
    """MariaDB sequences are not modelled: a diff that left them out would look complete."""
    db = database_from(mariadb, "CREATE TABLE t (a int); CREATE SEQUENCE `s q`;")
    try:
        with mariadb.target.connect(db) as conn, pytest.raises(SourceError, match="sequence `s q`: the MySQL dialect"):
            inspect_connection(conn)
    finally:
        mariadb.drop(db)
