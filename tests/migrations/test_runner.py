"""The runner against a real PostgreSQL, through the CLI in-process."""

from __future__ import annotations

import pytest


def _thirty(folder) -> None:
    """30 migrations of varied kinds, each with its down, ending with an enum label used in the file
    that adds it and an index built CONCURRENTLY."""
    templates = {
        1: ("CREATE TABLE t{k} (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, "
            "created timestamptz DEFAULT now());", "DROP TABLE t{k};"),
        2: ("CREATE INDEX t{p}_name ON t{p} (name);", "DROP INDEX t{p}_name;"),
        3: ("CREATE VIEW v{k} AS SELECT id, name FROM t{q};", "DROP VIEW v{k};"),
        4: ("CREATE FUNCTION f{k}(a int) RETURNS int LANGUAGE sql AS $$ SELECT a + {k} $$;\n"
            "COMMENT ON FUNCTION f{k}(int) IS 'adds {k}';", "DROP FUNCTION f{k}(int);"),
        0: ("ALTER TABLE t{r} ADD COLUMN extra int CHECK (extra > 0);", "ALTER TABLE t{r} DROP COLUMN extra;"),
    }
    special = {
        28: ("CREATE TYPE mood AS ENUM ('sad');", "DROP TYPE mood;"),
        29: ("ALTER TYPE mood ADD VALUE 'happy';\nCREATE TABLE moods (m mood DEFAULT 'happy');",
             "DROP TABLE moods;"),
        30: ("CREATE INDEX CONCURRENTLY t26_created ON t26 (created);", "DROP INDEX CONCURRENTLY t26_created;"),
    }
    for k in range(1, 31):
        up, down = special.get(k) or templates[k % 5]
        names = dict(k=k, p=k - 1, q=k - 2, r=k - 4)
        folder.add(f"{k:04d}_step_{k}.sql", up.format(**names), down.format(**names))


def _applied(db, url, table="schemashift.history") -> list[int]:
    return [v for (v,) in db.query(url, f"SELECT version FROM {table} WHERE success ORDER BY id")]


def test_failure_on_third_statement_changes_nothing(folder, url, shift, db):
    folder.add("0001_base.sql", "CREATE TABLE keep (id int);", "DROP TABLE keep;")
    bad = folder.add("0002_bad.sql", """
        CREATE TABLE first (id int);
        ALTER TABLE keep ADD COLUMN note text;

        INSERT INTO missing VALUES (1);
        CREATE TABLE never (id int);
    """, "SELECT 1;")
    assert shift(folder, url, "up", "--to", "1").code == 0
    before = db.schema(url)

    message = shift(folder, url, "up").one_line_error()

    assert f"{bad}:6: INSERT INTO missing VALUES (1): relation \"missing\" does not exist" in message
    assert db.schema(url) == before
    rows = db.query(url, "SELECT version, success, error FROM schemashift.history ORDER BY id")
    assert rows == [(1, True, None), (2, False, 'relation "missing" does not exist')]
    status = shift(folder, url, "status")
    assert status.code == 1 and "pending: 0002_bad.sql" in status.out


# 7: past psycopg's prepare threshold (5), so the history row's statement is a prepared one by then
@pytest.mark.parametrize("before", [2, 7])
def test_failure_inside_a_batch_keeps_the_migrations_before_it(folder, url, shift, db, before):
    """Pending migrations go to the server in one pipeline; a failure still stops where it is."""
    for k in range(1, before + 1):
        folder.add(f"{k:04d}_t{k}.sql", f"CREATE TABLE t{k} (id int);", f"DROP TABLE t{k};")
    bad, later = before + 1, before + 2
    path = folder.add(f"{bad:04d}_bad.sql", f"CREATE TABLE t{bad} (id int);\nINSERT INTO t{bad} VALUES ('x');",
                      f"DROP TABLE t{bad};")
    folder.add(f"{later:04d}_later.sql", f"CREATE TABLE t{later} (id int);", f"DROP TABLE t{later};")

    result = shift(folder, url, "up")

    assert result.code == 1 and f"{path}:4: INSERT INTO t{bad} VALUES ('x'): invalid input syntax" in result.err
    assert [line.split(" (")[0] for line in result.out.splitlines()] == [
        f"applied {k:04d}_t{k}.sql" for k in range(1, before + 1)]
    rows = db.query(url, "SELECT version, success FROM schemashift.history ORDER BY id")
    assert rows == [*((k, True) for k in range(1, before + 1)), (bad, False)]
    assert db.query(url, f"SELECT to_regclass('t{bad}'), to_regclass('t{later}')") == [(None, None)]


def test_deferred_constraint_failing_at_commit_is_logged(folder, url, shift, db):
    bad = folder.add("0001_deferred.sql", """
        CREATE TABLE p (id int PRIMARY KEY);
        CREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);
        INSERT INTO c VALUES (1);
    """, "DROP TABLE c, p;")

    message = shift(folder, url, "up").one_line_error()

    assert message.startswith(f"schemashift: {bad}:5: COMMIT: insert or update on table \"c\"")
    assert db.query(url, "SELECT version, success FROM schemashift.history") == [(1, False)]
    assert db.query(url, "SELECT to_regclass('p')") == [(None,)]


def test_edited_files_are_refused_by_name(folder, url, shift):
    first = folder.add("0001_a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    folder.add("0002_b.sql", "CREATE TABLE b (id int);", "DROP TABLE b;")
    assert shift(folder, url, "up").code == 0

    first.write_text(first.read_text().replace("(id int)", "(id bigint)"))
    for command in ("up", "status"):
        assert f"{first}: changed since schemashift.sum was written" in shift(folder, url, command).one_line_error()
    folder.rehash()

    assert f"{first}: changed after it was applied" in shift(folder, url, "up").one_line_error()
    status = shift(folder, url, "status")
    assert status.code == 1 and f"changed: {first}" in status.out
    assert shift(folder, url, "up", "--allow-changed").code == 0
    assert shift(folder, url, "up").code == 0
    assert shift(folder, url, "status").code == 0
    assert "accept\tok\t0001_a.sql" in shift(folder, url, "history").out


def test_concurrent_index_and_new_enum_label_need_no_flag(folder, any_url, shift, db):
    url = any_url
    folder.add("0001_mood.sql", "CREATE TYPE mood AS ENUM ('sad');\nCREATE TABLE people (m mood);",
               "DROP TABLE people;\nDROP TYPE mood;")
    folder.add("0002_happy.sql", """
        ALTER TYPE mood ADD VALUE 'happy';
        ALTER TABLE people ALTER m SET DEFAULT 'happy';
        INSERT INTO people DEFAULT VALUES;
    """, "DELETE FROM people;\nALTER TABLE people ALTER m DROP DEFAULT;")
    folder.add("0003_index.sql", "CREATE INDEX CONCURRENTLY people_m ON people (m);",
               "DROP INDEX CONCURRENTLY people_m;")

    result = shift(folder, url, "up")

    assert result.code == 0, result.err
    assert db.query(url, "SELECT m::text FROM people") == [("happy",)]
    assert db.query(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_m'::regclass") == [(True,)]
    assert _applied(db, url) == [1, 2, 3]
    assert shift(folder, url, "down", "--to", "1").code == 0
    assert _applied(db, url) == [1, 2, 3, 3, 2]


def test_failure_after_a_committed_step_resumes_after_it(folder, url, shift, db):
    folder.add("0001_mood.sql", "CREATE TYPE mood AS ENUM ('sad');", "DROP TYPE mood;")
    split = folder.add("0002_ok.sql", """
        ALTER TYPE mood ADD VALUE 'ok';
        CREATE TABLE feelings (m mood DEFAULT 'ok');
        INSERT INTO feelings VALUES ('bad');
    """, "DROP TABLE feelings;")

    assert f"{split}:5: INSERT INTO feelings" in shift(folder, url, "up").one_line_error()
    status = shift(folder, url, "status")
    assert "partial: 0002_ok.sql up stopped after 1 step(s): invalid input value" in status.out
    assert db.query(url, "SELECT to_regclass('feelings')") == [(None,)]

    split.write_text(split.read_text().replace("'bad'", "DEFAULT"))
    folder.rehash()
    assert "changed since its interrupted up (1 of 2 steps done)" in shift(folder, url, "up").one_line_error()
    assert shift(folder, url, "up", "--allow-changed").code == 0
    assert db.query(url, "SELECT enum_range(NULL::mood)::text, (SELECT m::text FROM feelings)") == [("{sad,ok}", "ok")]
    assert shift(folder, url, "status").code == 0


def test_thirty_up_down_and_offline_sql(folder, url, server, shift, db):
    _thirty(folder)
    empty = db.schema(url)

    assert shift(folder, url, "up").code == 0
    applied = db.schema(url)
    assert applied != empty
    assert shift(folder, url, "down", "--to", "base").code == 0
    assert db.schema(url) == empty
    assert db.query(url, "SELECT count(*) FROM schemashift.history WHERE action = 'down'") == [(30,)]

    script = shift(folder, url, "up", "--sql")
    assert script.code == 0
    with server.scratch_database() as offline_url:
        db.psql(offline_url, script.out)
        assert db.schema(offline_url) == applied
        assert shift(folder, offline_url, "status").code == 0
        db.psql(offline_url, shift(folder, offline_url, "down", "--to", "base", "--sql").out)
        assert db.schema(offline_url) == empty


def test_two_history_tables_do_not_see_each_other(make_folder, url, shift, db):
    one, two = make_folder("one"), make_folder("two")
    one.add("0001_one.sql", "CREATE TABLE one (id int);", "DROP TABLE one;")
    one.add("0002_more.sql", "CREATE TABLE one_more (id int);", "DROP TABLE one_more;")
    two.add("0001_two.sql", "CREATE TABLE two (id int);", "DROP TABLE two;")

    assert shift(one, url, "up", table="app_one.history").code == 0
    status = shift(two, url, "status", table="app_two.history")
    assert status.code == 1 and "pending: 0001_two.sql" in status.out
    assert shift(two, url, "up", table="app_two.history").code == 0
    assert _applied(db, url, "app_one.history") == [1, 2]
    assert _applied(db, url, "app_two.history") == [1]
    assert shift(one, url, "down", "--to", "base", table="app_one.history").code == 0
    assert shift(two, url, "status", table="app_two.history").code == 0
    assert db.query(url, "SELECT to_regclass('two') IS NOT NULL, to_regclass('one') IS NULL") == [(True, True)]


def test_stamp_and_baseline_record_without_running(folder, url, shift, db):
    for k in (1, 2, 3):
        folder.add(f"000{k}_t{k}.sql", f"CREATE TABLE t{k} (id int);", f"DROP TABLE t{k};")
    db.query(url, "CREATE TABLE t1 (id int); CREATE TABLE t2 (id int)")

    assert shift(folder, url, "baseline", "2").code == 0
    assert "already has history" in shift(folder, url, "baseline", "2").one_line_error()
    assert shift(folder, url, "up").code == 0
    assert shift(folder, url, "stamp", "1").code == 0
    assert [line for line in shift(folder, url, "status").out.splitlines() if line.startswith("pending")] == [
        "pending: 0002_t2.sql", "pending: 0003_t3.sql"]
    assert shift(folder, url, "stamp", "3").code == 0
    assert shift(folder, url, "status").code == 0
    actions = db.query(url, "SELECT action, version FROM schemashift.history ORDER BY id")
    assert actions == [("baseline", 1), ("baseline", 2), ("up", 3), ("unstamp", 2), ("unstamp", 3),
                       ("stamp", 2), ("stamp", 3)]


def test_python_migration_runs_in_its_transaction(folder, url, shift, db):
    folder.add("0001_t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    data = folder.path / "0002_fill.py"
    data.write_text(
        "def up(conn):\n"
        "    conn.execute('INSERT INTO t SELECT generate_series(1, 3)')\n"
        "    if conn.execute('SELECT count(*) FROM t').fetchone()[0] != 4:\n"
        "        raise ValueError('expected four rows')\n"
        "\n"
        "def down(conn):\n"
        "    conn.execute('DELETE FROM t')\n"
    )
    folder.rehash()

    message = shift(folder, url, "up").one_line_error()
    assert f"{data}:4: up(): ValueError: expected four rows" in message
    assert db.query(url, "SELECT count(*) FROM t") == [(0,)]
    data.write_text(data.read_text().replace("!= 4", "!= 3"))
    folder.rehash()
    assert shift(folder, url, "up").code == 0
    assert db.query(url, "SELECT count(*) FROM t") == [(3,)]
    assert "Python migration cannot be printed" in shift(folder, url, "up", "--sql").one_line_error()


@pytest.mark.parametrize("args, message", [
    (["up", "--to", "9"], "no migration with version '9'"),
    (["down", "--to", "x"], "no migration with version 'x'"),
    (["stamp", "7"], "no migration with version '7'"),
])
def test_unknown_versions(folder, url, shift, args, message):
    folder.add("0001_a.sql", "SELECT 1;", "SELECT 1;")
    assert message in shift(folder, url, *args).one_line_error()


def test_missing_applied_file(folder, url, shift):
    folder.add("0001_a.sql", "SELECT 1;", "SELECT 1;")
    gone = folder.add("0002_b.sql", "SELECT 2;", "SELECT 2;")
    assert shift(folder, url, "up").code == 0
    gone.unlink()
    folder.rehash()
    assert f"{gone}: applied as version 2 but the file is missing" in shift(folder, url, "up").one_line_error()
    assert "missing: 0002_b.sql" in shift(folder, url, "status").out
