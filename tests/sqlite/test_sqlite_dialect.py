"""The SQLite dialect against real SQLite databases: round trips applied with the sqlite3 shell,
the sqldef SQLite corpus in both directions, and rows kept through a table rebuild.

Every round trip is judged twice: by schemashift's own re-diff (must be empty) and by an
oracle that does not use its inspector: the pragmas' output per table (column order ignored) and
the whitespace- and quote-normalised CREATE text of indexes, views and triggers, and of each
table's CHECKs.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml

from schemashift.dialects.sqlite.dialect import diff_schemas, diff_sqlite
from schemashift.dialects.sqlite.inspect import inspect_connection, inspect_file
from schemashift.errors import SourceError

SHELL = "/usr/bin/sqlite3"
CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "sqldef-sqlite"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus/sqldef-sqlite")


def load(sql: str, path: Path | None = None) -> sqlite3.Connection:
    """A database (in memory, or the file `path`) built from `sql`."""
    conn = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None)
    conn.executescript(sql)
    return conn


def _norm_sql(sql: str | None) -> str:
    """CREATE text in one spelling: case, whitespace and identifier quotes ignored."""
    text = re.sub(r"/\*.*?\*/|--[^\n]*", " ", sql or "", flags=re.S)
    text = re.sub(r'["`\[\]]', "", text.lower())
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ?([(),;=<>*+-]) ?", r"\1", text).strip()


def fingerprint(conn: sqlite3.Connection) -> dict:
    """An independent description of the schema: pragma rows and normalised CREATE text."""
    out: dict = {}
    for kind, name, table, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"):
        if kind == "table":
            cols = sorted((r[1], r[2].upper(), r[3], _norm_sql(r[4]), r[5], r[6])
                          for r in conn.execute("SELECT * FROM pragma_table_xinfo(?)", (name,)))
            fks = sorted(tuple(r[2:]) for r in conn.execute("SELECT * FROM pragma_foreign_key_list(?)", (name,)))
            # index columns by name, not position (cid): column order is ignored
            idx = sorted((r[2], r[3], r[4], tuple((min(x[1], 0), *x[2:]) for x in conn.execute(
                "SELECT seqno, cid, name, \"desc\", coll, key FROM pragma_index_xinfo(?)", (r[1],))))
                for r in conn.execute("SELECT * FROM pragma_index_list(?)", (name,)) if r[3] != "c")
            opts = conn.execute("SELECT strict, wr FROM pragma_table_list WHERE name = ?", (name,)).fetchone()
            checks = (_norm_sql(sql).count("check("), sorted(re.findall(r"constraint (.+?) check\(", _norm_sql(sql))))
            auto = ("autoincrement" in _norm_sql(sql),
                    sorted(a for a in re.findall(r"on conflict (\w+)", _norm_sql(sql)) if a != "abort"))
            out[("table", name.lower())] = (cols, fks, idx, opts, checks, auto)
        elif sql is not None:
            body = _norm_sql(sql).replace("if not exists ", "").replace("temp ", "")
            out[(kind, name.lower())] = (table.lower(), body.split(_norm_sql(name), 1)[-1])
    return out


def apply_with_shell(path: Path, sql: str) -> None:
    """Apply a plan the way a user would: the sqlite3 shell, stopping at the first error."""
    result = subprocess.run([SHELL, "-bail", str(path)], input=sql, text=True, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert "|" not in result.stdout, f"foreign_key_check found rows: {result.stdout}"


def assert_round_trips(tmp_path: Path, a_sql: str, b_sql: str) -> None:
    """A→B and B→A applied with the shell: re-diff empty, oracle equal to the target."""
    for name, (src, dst) in {"ab": (a_sql, b_sql), "ba": (b_sql, a_sql)}.items():
        src_path, dst_path = tmp_path / f"{name}_src.db", tmp_path / f"{name}_dst.db"
        load(src, src_path).close()
        load(dst, dst_path).close()
        plan = diff_sqlite(str(src_path), str(dst_path))
        apply_with_shell(src_path, plan.sql)
        assert not diff_sqlite(str(src_path), str(dst_path)), f"{name}: re-diff not empty"
        with sqlite3.connect(src_path) as got, sqlite3.connect(dst_path) as want:
            assert fingerprint(got) == fingerprint(want), name


ROUND_TRIPS = {
    "add_column_constant_default": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text);",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a text, b int NOT NULL DEFAULT 3, c text DEFAULT 'x');"),
    "add_column_expression_default_rebuilds": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY);",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at text DEFAULT CURRENT_TIMESTAMP, u int UNIQUE);"),
    "change_type_and_not_null": (
        "CREATE TABLE t (id int, v int);",
        "CREATE TABLE t (id int NOT NULL, v text COLLATE NOCASE);"),
    "odd_names": (
        'CREATE TABLE "Tab ""q"" é" ("Col A" int, "ü" text);',
        'CREATE TABLE "Tab ""q"" é" ("Col A" int, "new col" real, CHECK ("Col A" > 0));'
        ' CREATE INDEX "Idx ""x""" ON "Tab ""q"" é" ("new col" DESC);'),
    "keys_and_foreign_keys": (
        "CREATE TABLE p (id INTEGER PRIMARY KEY AUTOINCREMENT, code text);"
        " CREATE TABLE c (id int, p_id int);",
        "CREATE TABLE p (id INTEGER PRIMARY KEY AUTOINCREMENT, code text UNIQUE);"
        " CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);"),
    "strict_without_rowid": (
        "CREATE TABLE t (k text PRIMARY KEY, v int);",
        "CREATE TABLE t (k text PRIMARY KEY, v int) WITHOUT ROWID, STRICT;"),
    "generated_columns": (
        "CREATE TABLE t (a int, b int);",
        "CREATE TABLE t (a int, b int, s int GENERATED ALWAYS AS (a + b) STORED, v int AS (a * 2));"),
    "indexes_partial_expression": (
        "CREATE TABLE t (a int, b text); CREATE INDEX i ON t (a);",
        "CREATE TABLE t (a int, b text); CREATE UNIQUE INDEX i ON t (lower(b)) WHERE a > 0;"
        " CREATE INDEX j ON t (b COLLATE NOCASE, a DESC);"),
    "views_and_triggers_over_rebuilt_table": (
        "CREATE TABLE t (a int, b int); CREATE TABLE log (x int);"
        " CREATE VIEW v AS SELECT a FROM t; CREATE VIEW w AS SELECT * FROM v;"
        " CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END;",
        "CREATE TABLE t (a text, c int); CREATE TABLE log (x int);"
        " CREATE VIEW v AS SELECT a FROM t; CREATE VIEW w AS SELECT * FROM v;"
        " CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END;"),
    "drop_and_create_tables": (
        "CREATE TABLE gone (a int); CREATE TABLE keep (a int UNIQUE);",
        "CREATE TABLE keep (a int UNIQUE); CREATE TABLE fresh (id integer primary key, k int references keep(a));"),
}


ROUND_TRIPS |= {
    "drop_indexed_and_view_read_columns": (
        "CREATE TABLE t (a int, b int, c int); CREATE INDEX tb ON t (b); CREATE VIEW v AS SELECT c FROM t;",
        "CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;"),
    "defaults_of_every_literal_kind": (
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int, a int DEFAULT -1, b real DEFAULT +2.5e3, c int DEFAULT 0x1F, d blob DEFAULT x'00ff',"
        " e text DEFAULT 'it''s', f int DEFAULT NULL, g int DEFAULT true, h text DEFAULT CURRENT_TIMESTAMP,"
        " i text DEFAULT (datetime('now')), j int DEFAULT (1+2));"),
    "key_order_and_collation": (
        "CREATE TABLE t (k text, n int, PRIMARY KEY (k, n)) WITHOUT ROWID;",
        "CREATE TABLE t (k text COLLATE NOCASE, n int, PRIMARY KEY (k COLLATE NOCASE, n DESC)) WITHOUT ROWID;"),
    "named_checks": (
        'CREATE TABLE t (a int CONSTRAINT "A positive" CHECK (a > 0), b int CHECK (b < 9));',
        'CREATE TABLE t (a int CHECK (a > 0), b int, CONSTRAINT "b small" CHECK (b < 9));'),
    "conflict_clauses": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k text UNIQUE, m int, n int, UNIQUE (m, n));",
        "CREATE TABLE t (id INTEGER PRIMARY KEY ON CONFLICT REPLACE, k text UNIQUE ON CONFLICT IGNORE,"
        " m int, n int, UNIQUE (m, n) ON CONFLICT ROLLBACK);"),
    "self_reference_and_actions": (
        "CREATE TABLE n (id INTEGER PRIMARY KEY, up int);",
        "CREATE TABLE n (id INTEGER PRIMARY KEY, up int REFERENCES n (id) ON UPDATE CASCADE ON DELETE SET NULL);"),
}


def _plan_sql(a_sql: str, b_sql: str) -> str:
    return diff_schemas(inspect_connection(load(a_sql)), inspect_connection(load(b_sql))).sql


def test_alter_table_where_sqlite_can() -> None:
    """ADD COLUMN with a constant default and DROP COLUMN of an unreferenced column need no rebuild;
    the same table with a non-constant default or a dropped indexed column is rebuilt."""
    simple = _plan_sql("CREATE TABLE t (a int, b int);", "CREATE TABLE t (a int, c text NOT NULL DEFAULT 'x');")
    assert 'ALTER TABLE "t" ADD COLUMN "c"' in simple and 'ALTER TABLE "t" DROP COLUMN "b"' in simple
    assert '"_schemashift_new_t"' not in simple
    rebuilt = _plan_sql("CREATE TABLE t (a int, b int); CREATE INDEX i ON t (b);",
                        "CREATE TABLE t (a int, c text DEFAULT (lower('X')));")
    assert "DROP COLUMN" not in rebuilt and 'INSERT INTO "_schemashift_new_t" ("a") SELECT "a" FROM "t"' in rebuilt


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_round_trip(tmp_path: Path, name: str) -> None:
    assert_round_trips(tmp_path, *ROUND_TRIPS[name])


def test_spellings_sqlite_treats_alike_compare_equal() -> None:
    """Quoting, spacing, keyword case and where a key is declared do not make a diff."""
    a = load('CREATE TABLE t (id integer primary key, a TEXT unique, b int check(b>0), c int references t(id));'
             ' CREATE INDEX i ON t(a);')
    b = load('create table "t" ("id" INTEGER, "a" text, "b" INT, "c" int, PRIMARY KEY ("id"), UNIQUE (a),'
             ' CHECK (b > 0), FOREIGN KEY (c) REFERENCES "t" (id));  create index "i" on "t" ( "a" );')
    assert not diff_schemas(inspect_connection(a), inspect_connection(b))


def test_rows_survive_rebuild(tmp_path: Path) -> None:
    """10,000 rows in a referenced table through a type change, a dropped column and an added
    foreign key in one plan: counts, a checksum of the kept columns, and no FK violations."""
    a_sql = ("CREATE TABLE parent (id INTEGER PRIMARY KEY, name text, amount int, junk text, owner int);"
             " CREATE TABLE owner (id INTEGER PRIMARY KEY);"
             " CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id int REFERENCES parent(id));"
             " CREATE INDEX parent_name ON parent(name);")
    b_sql = ("CREATE TABLE parent (id INTEGER PRIMARY KEY, name text, amount real, owner int REFERENCES owner(id));"
             " CREATE TABLE owner (id INTEGER PRIMARY KEY);"
             " CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id int REFERENCES parent(id));"
             " CREATE INDEX parent_name ON parent(name);")
    db, target = tmp_path / "data.db", tmp_path / "target.db"
    conn = load(a_sql, db)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO owner VALUES (?)", [(i,) for i in range(100)])
    conn.executemany("INSERT INTO parent VALUES (?, ?, ?, ?, ?)",
                     [(i, f"n{i}", i * 7, "x" * (i % 5), i % 100) for i in range(10_000)])
    conn.executemany("INSERT INTO child VALUES (?, ?)", [(i, i % 10_000) for i in range(2_000)])
    conn.execute("COMMIT")

    def kept(c: sqlite3.Connection) -> tuple[int, str, int]:
        rows = c.execute("SELECT id, name, CAST(amount AS INTEGER), owner FROM parent ORDER BY id").fetchall()
        return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest(), \
            c.execute("SELECT count(*) FROM child").fetchone()[0]

    before = kept(conn)
    conn.close()
    load(b_sql, target).close()
    plan = diff_sqlite(str(db), str(target))
    assert "INSERT INTO" in plan.sql and "PRAGMA foreign_key_check" in plan.sql
    apply_with_shell(db, plan.sql)
    with sqlite3.connect(db) as conn:
        assert kept(conn) == before
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT typeof(amount) FROM parent LIMIT 1").fetchone() == ("real",)
        assert not diff_sqlite(str(db), str(target))


def test_autoincrement_counter_survives_rebuild(tmp_path: Path) -> None:
    """Ids of deleted rows are not handed out again after a rebuild of an AUTOINCREMENT table."""
    db, target = tmp_path / "a.db", tmp_path / "b.db"
    conn = load("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v int);"
                " INSERT INTO t (v) VALUES (1), (2), (3), (4), (5); DELETE FROM t WHERE id > 2;", db)
    conn.close()
    load("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v text NOT NULL DEFAULT '');", target).close()
    plan = diff_sqlite(str(db), str(target))
    assert '"_schemashift_new_t"' in plan.sql
    apply_with_shell(db, plan.sql + "INSERT INTO t (v) VALUES ('x');")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (2,), (6,)]
        assert conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall() == [("t", 6)]


def test_violated_foreign_key_stops_the_plan(tmp_path: Path) -> None:
    """A new foreign key that existing rows break: the shell stops, the database is as it was."""
    db, target = tmp_path / "a.db", tmp_path / "b.db"
    load("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p_id int);"
         " INSERT INTO c VALUES (42);", db).close()
    load("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p_id int REFERENCES p (id));", target).close()
    before = inspect_file(str(db))
    plan = diff_sqlite(str(db), str(target))
    result = subprocess.run([SHELL, "-bail", str(db)], input=plan.sql, text=True, capture_output=True)
    assert result.returncode != 0 and "CHECK constraint failed" in result.stderr
    assert inspect_file(str(db)) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT p_id FROM c").fetchall() == [(42,)]


def _corpus_cases() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CORPUS.glob("tests*.yml")):
        for name, case in (yaml.safe_load(path.read_text()) or {}).items():
            cases.append((f"{path.stem}::{name}", case))
    return cases


# Options that change what sqldef's case means (an expected failure, a mode, another engine's
# flavour, a configuration): such cases are not a current→desired pair to reproduce.
SKIP_OPTIONS = ("error", "offline", "flavor", "config", "managed_roles", "min_version", "max_version")


def _skip_cause(case: dict) -> str | None:
    for option in SKIP_OPTIONS:
        if option in case:
            return f"option {option}"
    for side in ("current", "desired"):
        try:
            load(case.get(side) or "").close()
        except sqlite3.Error as exc:
            return f"{side} does not load: {exc}"
    return None


CASES = _corpus_cases()


@pytest.mark.parametrize("case_id", [c for c, _ in CASES])
def test_sqlite_sqldef_case(case_id: str) -> None:
    """current→desired and desired→current: re-diff empty and the oracle equal to the target."""
    case = dict(CASES)[case_id]
    cause = _skip_cause(case)
    if cause:
        pytest.skip(cause)
    current, desired = case.get("current") or "", case.get("desired") or ""
    for src, dst in ((current, desired), (desired, current)):
        got, want = load(src), load(dst)
        plan = diff_schemas(inspect_connection(got), inspect_connection(want))
        got.executescript(plan.sql)
        assert not diff_schemas(inspect_connection(got), inspect_connection(want)), plan.sql
        assert fingerprint(got) == fingerprint(want), plan.sql


def test_inspect_file_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "x #?.db"  # characters a file: URI must escape
    load("CREATE TABLE t (a int);", path).close()
    assert ("table", "main", "t") in inspect_file(str(path)).objects


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    """A missing file, a file that is not a database, a virtual table: a SourceError naming it."""
    (tmp_path / "text.db").write_text("not a database, " * 100)
    load("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1);", tmp_path / "virtual.db").close()
    for name, says in (("missing.db", "missing.db"), ("text.db", "text.db"), ("virtual.db", 'virtual table "r"')):
        with pytest.raises(SourceError, match=re.escape(says)):
            inspect_file(str(tmp_path / name))
    assert not (tmp_path / "missing.db").exists()


_NAMES = ["a", "B", "c d", 'q"x', "é"]
_TYPES = ["int", "TEXT", "real", "blob", "", "INTEGER"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_sql(draw, name: str) -> str:
    from hypothesis import strategies as st

    sql = f"{_q(name)} {draw(st.sampled_from(_TYPES))}"
    if draw(st.booleans()):
        sql += " NOT NULL DEFAULT " + draw(st.sampled_from(["0", "'x'", "(1 + 2)", "CURRENT_TIMESTAMP"]))
    if draw(st.booleans()):
        sql += f" CHECK ({_q(name)} IS NOT NULL)"
    if draw(st.integers(0, 4)) == 0:
        sql += " UNIQUE"
    return sql


def _schemas():
    """A small random schema: tables with random columns, UNIQUE, CHECKs, foreign keys, an index,
    a view and a trigger."""
    from hypothesis import strategies as st

    @st.composite
    def schema(draw) -> str:
        out: list[str] = []
        made: list[str] = []
        for table in draw(st.lists(st.sampled_from(["t", "Tab X", 'q"t']), min_size=1, max_size=3, unique=True)):
            cols = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4, unique=True))
            parts = ["id INTEGER PRIMARY KEY"] + [_column_sql(draw, c) for c in cols]
            if out and draw(st.booleans()):  # a foreign key to an earlier table's rowid key
                parts.append(f"ref int REFERENCES {draw(st.sampled_from(made))} (id)"
                             + draw(st.sampled_from(["", " ON DELETE CASCADE", " DEFERRABLE INITIALLY DEFERRED"])))
            out.append(f"CREATE TABLE {_q(table)} ({', '.join(parts)});")
            made.append(_q(table))
            if draw(st.booleans()):
                out.append(f"CREATE TRIGGER {_q(table + ' tr')} AFTER UPDATE ON {_q(table)}"
                           f" BEGIN SELECT {_q(cols[0])} FROM {_q(table)}; END;")
            if draw(st.booleans()):
                out.append(f"CREATE INDEX {_q(table + ' i')} ON {_q(table)} ({_q(cols[-1])} DESC);")
            if draw(st.booleans()):
                out.append(f"CREATE VIEW {_q(table + ' v')} AS SELECT {_q(cols[0])} FROM {_q(table)};")
        return "\n".join(out)

    return schema()


def test_property_random_schemas_round_trip() -> None:
    """Any two random schemas: each direction's plan, applied, gives the target (oracle and re-diff)."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_schemas(), _schemas())
    def check(a_sql: str, b_sql: str) -> None:
        for src, dst in ((a_sql, b_sql), (b_sql, a_sql)):
            got, want = load(src), load(dst)
            got.executescript(diff_schemas(inspect_connection(got), inspect_connection(want)).sql)
            assert not diff_schemas(inspect_connection(got), inspect_connection(want))
            assert fingerprint(got) == fingerprint(want)

    check()
