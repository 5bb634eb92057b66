"""An online migration (`new --online`) through the runner: CONCURRENTLY steps run alone, in
order, and a run that fails at one of them resumes there, rebuilding the INVALID index it left."""

from __future__ import annotations

from pathlib import Path

import schemashift

AFTER = """
CREATE TABLE orders (id int PRIMARY KEY, code int UNIQUE, customer int NOT NULL CHECK (customer > 0));
CREATE INDEX orders_customer_idx ON orders (customer);
"""


def test_online_migration_resumes_at_a_failed_concurrent_build(folder, url, shift, db, tmp_path: Path) -> None:
    folder.add("0001_orders.sql", """
        CREATE TABLE orders (id int PRIMARY KEY, code int, customer int);
        INSERT INTO orders SELECT g, g, g FROM generate_series(1, 1000) g;
        INSERT INTO orders VALUES (1001, 1, 1);
    """, "DROP TABLE orders;")
    (tmp_path / "after.sql").write_text(AFTER)
    made = shift(folder, url, "new", "keys", "--online", "--target", str(tmp_path / "after.sql"))
    assert made.code == 0, made.err
    written = Path(made.out.strip()).read_text()
    up = written.split("-- schemashift:down")[0]
    assert 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "orders_code_key"' in up
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx" in up
    assert "VALIDATE CONSTRAINT" in up and up.count("SET LOCAL lock_timeout") >= 4

    failed = shift(folder, url, "up")  # row 1001 repeats code 1: the unique build fails, INVALID
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in failed.one_line_error()
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_code_key'::regclass"
    assert db.query(url, valid) == [(False,)]
    done_before = db.query(url, "SELECT steps_done FROM schemashift.history WHERE version = 2")
    assert done_before and done_before[-1][0] > 0  # the steps before the build stay committed

    db.query(url, "DELETE FROM orders WHERE id = 1001")
    resumed = shift(folder, url, "up")
    assert resumed.code == 0, resumed.err
    assert db.query(url, valid) == [(True,)]
    assert db.query(url, "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_not_null_online'") == [(0,)]
    left = schemashift.diff(url, str(tmp_path / "after.sql"), exclude_schemas=["schemashift"])
    assert not left, left.sql
    assert shift(folder, url, "status").code == 0


def test_sync_online_applies_the_lock_light_form(url, db, tmp_path: Path) -> None:
    from migration_helpers import cli_run

    db.query(url, "CREATE TABLE orders (id int PRIMARY KEY, code int, customer int);"
                  "INSERT INTO orders SELECT g, g, g FROM generate_series(1, 1000) g")
    (tmp_path / "after.sql").write_text(AFTER)
    result = cli_run("sync", "--url", url, "--target", str(tmp_path / "after.sql"), "--online", "--yes",
                     "--lock-retries", "2", "--history-table", "schemashift.history")
    assert result.code == 0, result.err
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx" in result.out
    assert "the database matches the target" in result.err
    assert db.query(url, "SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = 'orders'::regclass") == [(True,)]


def test_a_step_that_hits_its_lock_timeout_is_run_again(folder, url, shift, db) -> None:
    """A one-step migration under `SET LOCAL lock_timeout` (not pipelined then) waits out a session
    holding the table for 0.5 s by retries; without retries it fails on the timeout."""
    import threading
    import time

    import psycopg

    folder.add("0001_t.sql", "CREATE TABLE t (a int);", "DROP TABLE t;")
    folder.add("0002_col.sql", "SET LOCAL lock_timeout = '100ms';\nALTER TABLE t ADD COLUMN b int;",
               "ALTER TABLE t DROP COLUMN b;")
    assert shift(folder, url, "up", "--to", "1").code == 0
    for retries, ok in (("0", False), ("4", True)):
        with psycopg.connect(url) as holder:
            holder.execute("LOCK TABLE t IN ACCESS SHARE MODE")
            release = threading.Thread(target=lambda: (time.sleep(0.5), holder.rollback()))
            release.start()
            result = shift(folder, url, "up", "--lock-retries", retries)
            release.join()
        if ok:
            assert result.code == 0, result.err
        else:
            assert "lock timeout" in result.one_line_error()
    assert db.query(url, "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'b'") == [(1,)]
