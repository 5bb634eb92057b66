"""What only real processes show: concurrent runs, `kill -9` mid-migration, errors as users see them."""

from __future__ import annotations

import time

from psycopg import sql


def _wait_for_query(db, url: str, pattern: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db.query(url, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                             f"AND application_name = 'schemashift' AND query LIKE '{pattern}'")
        if rows[0][0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"no running query like {pattern}")


def _set(db, url: str, name: str, value: str | None) -> None:
    """Set or reset a custom setting for new sessions of the database (our knob for sleeping)."""
    dbname = db.query(url, "SELECT current_database()")[0][0]
    action = sql.SQL("SET {} = {}").format(sql.Identifier(*name.split(".")), sql.Literal(value)) if value \
        else sql.SQL("RESET {}").format(sql.Identifier(*name.split(".")))
    db.query(url, sql.SQL("ALTER DATABASE {} {}").format(sql.Identifier(dbname), action).as_string(None))


def test_eight_concurrent_runs_apply_each_migration_once(folder, url, spawn, db):
    folder.add("0001_log.sql", "CREATE TABLE log (version int PRIMARY KEY);", "DROP TABLE log;")
    for k in range(2, 21):
        up = f"CREATE TABLE t{k} (id int);\nINSERT INTO log VALUES ({k});\nSELECT pg_sleep(0.03);"
        if k == 10:
            up = f"CREATE INDEX CONCURRENTLY t{k - 1}_id ON t{k - 1} (id);\nINSERT INTO log VALUES ({k});"
        folder.add(f"{k:04d}_m{k}.sql", up, f"DELETE FROM log WHERE version = {k};")

    started = time.monotonic()
    runs = [spawn("up", "--url", url, "--migrations", str(folder.path)) for _ in range(8)]
    results = [(run.wait(60), *run.communicate()) for run in runs]
    elapsed = time.monotonic() - started

    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    outputs = "".join(out for _, out, _ in results)
    assert outputs.count("applied ") == 20 and outputs.count("nothing to apply") == 7
    assert db.query(url, "SELECT count(*), count(DISTINCT version) FROM schemashift_history") == [(20, 20)]
    assert db.query(url, "SELECT count(*) FROM log") == [(19,)]
    print(f"8 concurrent `up` runs, 20 migrations: {elapsed:.2f}s")


def test_kill_9_mid_migration_then_up_finishes_once(folder, url, spawn, shift, db):
    folder.add("0001_t.sql", "CREATE TABLE t (x int);", "DROP TABLE t;")
    folder.add("0002_slow.sql", "INSERT INTO t VALUES (2);\nSELECT pg_sleep(current_setting('knob.two', true)::float);",
               "DELETE FROM t WHERE x = 2;")
    folder.add("0003_steps.sql", """
        INSERT INTO t VALUES (31);
        SELECT pg_sleep(current_setting('knob.three', true)::float);
        INSERT INTO t VALUES (32);
    """, "DELETE FROM t WHERE x > 30;", header="-- schemashift:no-transaction")
    folder.add("0004_done.sql", "CREATE TABLE done (id int);", "DROP TABLE done;")
    _set(db, url, "knob.two", "60")
    _set(db, url, "knob.three", "60")
    args = ("up", "--url", url, "--migrations", str(folder.path), "--lock-timeout", "20")

    first = spawn(*args)
    _wait_for_query(db, url, "%knob.two%")
    first.kill()
    first.wait()
    _set(db, url, "knob.two", None)

    second = spawn(*args)  # waits for the killed run's backend to notice, then applies 0002 again
    _wait_for_query(db, url, "%knob.three%")
    second.kill()
    second.wait()
    _set(db, url, "knob.three", None)

    started = time.monotonic()
    result = shift(folder, url, "up", "--lock-timeout", "20", table="public.schemashift_history")
    assert result.code == 0, result.err
    print(f"up after two kill -9: {time.monotonic() - started:.2f}s")
    assert sorted(db.query(url, "SELECT x FROM t")) == [(2,), (31,), (32,)]
    assert db.query(url, "SELECT version, success, steps_done FROM schemashift_history ORDER BY id") == [
        (1, True, 1), (2, True, 1), (3, False, 1), (3, True, 3), (4, True, 1)]
    assert shift(folder, url, "status", table="public.schemashift_history").code == 0


def test_bad_input_is_one_line_without_traceback(make_folder, url, spawn, shift):
    good = make_folder("good")
    good.add("0001_a.sql", "SELECT 1;", "SELECT 1;")
    gone = make_folder("gone")
    gone.add("0001_a.sql", "SELECT 1;", "SELECT 1;")
    assert shift(gone, url, "up", table="gone_history").code == 0
    (gone.path / "0001_a.sql").unlink()
    gone.rehash()
    broken = make_folder("broken")
    broken.add("0001_a.sql", "SELECT 1;", "SELECT 1;")
    (broken.path / "schemashift.sum").write_text("h1:abc\n0001_a.sql\n")

    cases = {
        "unknown version": (["up", "--to", "99", "--url", url, "--migrations", str(good.path)],
                            "no migration with version '99'"),
        "missing folder": (["status", "--url", url, "--migrations", str(good.path / "nope")],
                           "no migrations folder"),
        "missing file": (["up", "--url", url, "--migrations", str(gone.path), "--history-table", "gone_history"],
                         "0001_a.sql: applied as version 1 but the file is missing"),
        "no url": (["up", "--migrations", str(good.path)], "no database URL"),
        "unreachable": (["up", "--url", "postgres://app:s3cret@127.0.0.1:9/db", "--migrations", str(good.path)],
                        "cannot connect to the database"),
        "malformed sum": (["status", "--url", url, "--migrations", str(broken.path)],
                          "schemashift.sum:2: malformed sum line"),
    }
    runs = {name: spawn(*args) for name, (args, _) in cases.items()}
    for name, run in runs.items():
        out, err = run.communicate(timeout=30)
        lines = err.strip().splitlines()
        assert run.returncode == 1 and len(lines) == 1, (name, err)
        assert cases[name][1] in lines[0] and "Traceback" not in err and "s3cret" not in err, (name, err)
