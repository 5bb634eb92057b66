"""`--online` plans through the oracle: each corpus case both directions with the lock-light form
(apply, re-diff empty, catalogs equal to the target), and each transform on a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

import corpus
import oracle
import schemashift
from schemashift.dialects.postgres.online import LOCK_TIMEOUT_KIND
from schemashift.online_flags import OnlineOptions
from schemashift.errors import SchemashiftError, UnsafeChanges
from schemashift.plan import Plan

MIGRA = corpus.migra_cases()
# The sqldef files whose cases add and drop constraints, indexes and NOT NULL on tables that exist.
SQLDEF_FILES = ["tests_constraints", "tests_indices", "tests_fk_deps"]  # where the online transforms apply
SQLDEF = corpus.sqldef_cases(SQLDEF_FILES)


@pytest.mark.parametrize("case", MIGRA, ids=[c.name for c in MIGRA])
def test_migra_fixture_online(case: corpus.Case, request: pytest.FixtureRequest) -> None:
    cluster = request.getfixturevalue("pg15" if case.majors == (15,) else "pg18")
    result = corpus.run_case(cluster, case, online=True)
    assert result.status == "pass", f"{result.status}: {result.message}"


@pytest.mark.parametrize("case", SQLDEF, ids=[c.id for c in SQLDEF])
def test_sqldef_case_online(case: corpus.Case, pg18: oracle.Cluster, pg15_or_none: oracle.Cluster | None) -> None:
    clusters = [pg18] + ([pg15_or_none] if pg15_or_none is not None else [])
    result = corpus.run_case_fallback(clusters, case, online=True)
    if result.status in ("skip", "noload"):
        pytest.skip(f"{result.status}: {result.first_line}")
    assert result.status == "pass", result.message


# Each transform on a real server ----------------------------------------------------------------

ROWS = 200_000
BASE = f"""
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, code bigint, note text);
INSERT INTO customers SELECT generate_series(1, 1000);
INSERT INTO orders SELECT g, 1 + g % 1000, g, md5(g::text) FROM generate_series(1, {ROWS}) g;
"""
ORDERS = "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, {columns}{extra});\n"
COLUMNS = "customer_id bigint{fk}{nn}, code bigint{unique}, note text{check}"
TRANSFORMS = {  # what B adds to A, and the statement of the online plan that scans the table
    "foreign key": (dict(fk=" REFERENCES customers"), "VALIDATE CONSTRAINT"),
    "check": (dict(check=" CHECK (md5(note) <> '')"), "VALIDATE CONSTRAINT"),
    "not null": (dict(nn=" NOT NULL"), "VALIDATE CONSTRAINT"),
    "unique": (dict(unique=" UNIQUE"), "CREATE UNIQUE INDEX CONCURRENTLY"),
    "index": (dict(extra=");\nCREATE INDEX orders_note_idx ON orders (note"), "CREATE INDEX CONCURRENTLY"),
}


def _target(adds: dict[str, str]) -> str:
    parts = dict(fk="", nn="", unique="", check="", extra="") | adds
    return ORDERS.format(columns=COLUMNS.format(**parts), extra=parts["extra"])


@pytest.fixture(scope="module")
def orders_db(pg18: oracle.Cluster) -> Iterator[str]:
    name = pg18.load(BASE)
    with psycopg.connect(pg18.url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    yield name
    pg18.drop(name)


def _write_while(url: str, busy: threading.Event, done: threading.Event,
                 lock_timeout: str) -> tuple[int, int, int]:
    """Single-row UPDATEs, each allowed to wait `lock_timeout` for its lock, until `done`: (writes,
    writes while `busy`, writes that timed out)."""
    writes = during = timeouts = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET lock_timeout = '{lock_timeout}'")
        while not done.is_set():
            try:
                conn.execute("UPDATE orders SET code = code WHERE id = %s", [1 + writes % ROWS])
                during += busy.is_set()
            except psycopg.errors.LockNotAvailable:
                timeouts += 1
            writes += 1
    return writes, during, timeouts


def _apply_with_writer(url: str, plan: Plan, scanning: str, lock_timeout: str = "200ms") -> tuple[int, int, int]:
    """Apply `plan` while a writer runs; `busy` is set while the statement containing `scanning`
    runs (seen from pg_stat_activity)."""
    busy, done = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        writer = pool.submit(_write_while, url, busy, done, lock_timeout)
        watcher = pool.submit(_watch, url, scanning, busy, done)
        time.sleep(0.2)
        try:
            schemashift.apply(plan, url)
        finally:
            time.sleep(0.2)
            done.set()
        watcher.result()
        return writer.result()


def _watch(url: str, scanning: str, busy: threading.Event, done: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not done.is_set():
            active = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND state = 'active' AND position(%s in query) > 0 AND pid <> pg_backend_pid()",
                                  [scanning]).fetchone()[0]
            busy.set() if active else busy.clear()
            time.sleep(0.001)


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_transform_keeps_the_table_writable(transform: str, pg18: oracle.Cluster, orders_db: str,
                                            tmp_path: Path) -> None:
    """While the online plan scans the table (VALIDATE, a concurrent build), a writer whose every
    UPDATE may wait 200 ms for its lock never times out and keeps writing; the result is the naive
    plan's, catalog for catalog."""
    adds, scanning = TRANSFORMS[transform]
    online_db, naive_db = pg18.create(orders_db), pg18.create(orders_db)
    try:
        (tmp_path / "b.sql").write_text(_target(adds))
        target = schemashift.inspect(str(tmp_path / "b.sql"), dev_url=pg18.server.admin_url)
        source = schemashift.inspect(pg18.url(online_db))
        plan = schemashift.diff_schemas(source, target, online=OnlineOptions())
        assert any(scanning in s.sql for s in plan.statements), plan.sql
        writes, during, timeouts = _apply_with_writer(pg18.url(online_db), plan, scanning)
        assert timeouts == 0 and during > 0, (writes, during, timeouts)
        schemashift.apply(schemashift.diff_schemas(source, target), pg18.url(naive_db))
        assert oracle.snapshot_differences(oracle.catalog_snapshot(pg18.url(online_db)),
                                           oracle.catalog_snapshot(pg18.url(naive_db)), "online", "naive") == []
        assert not schemashift.diff_schemas(schemashift.inspect(pg18.url(online_db)), target)
    finally:
        pg18.drop(online_db)
        pg18.drop(naive_db)


def test_naive_plan_times_the_writer_out(pg18: oracle.Cluster, orders_db: str, tmp_path: Path) -> None:
    """The control: the plain plan's CHECK scans under ACCESS EXCLUSIVE, so a writer waits for its
    lock at all (a 1 ms lock_timeout fires, whatever the machine's speed), where under the online
    plan the same writer never waits 200 ms."""
    db = pg18.create(orders_db)
    try:
        (tmp_path / "b.sql").write_text(_target(TRANSFORMS["check"][0]))
        plan = schemashift.diff(pg18.url(db), str(tmp_path / "b.sql"), dev_url=pg18.server.admin_url)
        writes, during, timeouts = _apply_with_writer(pg18.url(db), plan, "CHECK", lock_timeout="1ms")
        assert timeouts > 0, (writes, during, timeouts)
    finally:
        pg18.drop(db)


def test_lock_timeout_is_retried(pg18: oracle.Cluster, orders_db: str, tmp_path: Path) -> None:
    """A session holding a conflicting lock for 0.5 s makes the 100 ms lock_timeout fire; with
    retries the plan waits it out, without it fails on the timeout."""
    db = pg18.create(orders_db)
    try:
        (tmp_path / "b.sql").write_text(_target(TRANSFORMS["check"][0]))
        plan = schemashift.diff(pg18.url(db), str(tmp_path / "b.sql"), dev_url=pg18.server.admin_url,
                                online=OnlineOptions())
        for retries in (0, 4):
            with ThreadPoolExecutor(1) as pool, psycopg.connect(pg18.url(db)) as holder:
                holder.execute("LOCK TABLE orders IN ACCESS SHARE MODE")
                pool.submit(lambda: (time.sleep(0.5), holder.rollback()))
                if retries == 0:
                    with pytest.raises(SchemashiftError, match="lock timeout"):
                        schemashift.apply(plan, pg18.url(db), lock_retries=retries)
                else:
                    schemashift.apply(plan, pg18.url(db), lock_retries=retries)
        assert not schemashift.diff(pg18.url(db), str(tmp_path / "b.sql"), dev_url=pg18.server.admin_url)
    finally:
        pg18.drop(db)


def test_rewrite_is_refused_with_its_expand_contract_steps(pg18: oracle.Cluster, orders_db: str,
                                                           tmp_path: Path) -> None:
    (tmp_path / "b.sql").write_text(_target({}).replace("code bigint", "code numeric"))
    plan = schemashift.diff(pg18.url(orders_db), str(tmp_path / "b.sql"), dev_url=pg18.server.admin_url,
                            online=OnlineOptions())
    [retype] = plan.destructive
    assert "rewrites \"public\".\"orders\" under ACCESS EXCLUSIVE" in retype.why
    assert retype.sql.startswith("-- ONLINE: changes code from bigint to numeric") and "expand/contract" in retype.sql
    with pytest.raises(UnsafeChanges):
        plan.check_safe()


def test_set_not_null_proves_itself_from_the_validated_check(any_pg: oracle.Cluster, tmp_path: Path) -> None:
    """The online SET NOT NULL does not scan: the server says the validated CHECK proves it."""
    db = any_pg.load("CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 10);")
    try:
        (tmp_path / "b.sql").write_text("CREATE TABLE t (a int NOT NULL);")
        plan = schemashift.diff(any_pg.url(db), str(tmp_path / "b.sql"), dev_url=any_pg.server.admin_url,
                                online=OnlineOptions())
        notices: list[str] = []
        with psycopg.connect(any_pg.url(db), autocommit=True) as conn:
            conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
            conn.execute("SET client_min_messages = debug1")
            for st in plan.statements:
                if st.kind != LOCK_TIMEOUT_KIND:
                    conn.execute(st.sql.encode())
        assert 'existing constraints on column "t.a" are sufficient to prove that it does not contain nulls' in notices
        assert not schemashift.diff(any_pg.url(db), str(tmp_path / "b.sql"), dev_url=any_pg.server.admin_url)
    finally:
        any_pg.drop(db)


@pytest.mark.parametrize("case", corpus.gitlab_cases(), ids=lambda c: c.name)
def test_gitlab_online(case: corpus.Case, pg15: oracle.Cluster) -> None:
    """GitLab's 8.5 months of schema, both directions, in the lock-light form."""
    result = corpus.run_case(pg15, case, online=True)
    assert result.status == "pass", f"{result.status}: {result.message[:4000]}"
