"""`schemashift rehearse` on a real server: the statement that blocks writers is named with its
lock and duration, and the original database is left exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from click.testing import CliRunner

import oracle
from schemashift.cli import cli

BEFORE = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount integer);
INSERT INTO customers SELECT generate_series(1, 100);
INSERT INTO orders SELECT g, 1 + g % 100, 1 + g % 7 FROM generate_series(1, 300000) g;
"""
AFTER = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     amount integer CHECK (amount > 0));
"""


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False)
    return result.return_value, result.stdout, result.stderr


def _fingerprint(url: str) -> tuple[object, ...]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*), sum(hashtext(o::text)) FROM orders o").fetchone()
    return rows, oracle.catalog_snapshot(url)


def test_rehearse_names_the_blocking_statement_and_leaves_the_original(pg18: oracle.Cluster, tmp_path: Path) -> None:
    db = pg18.load(BEFORE)
    try:
        url = pg18.url(db)
        before = _fingerprint(url)
        (tmp_path / "after.sql").write_text(AFTER)
        code, out, err = _run("rehearse", url, str(tmp_path / "after.sql"), "--format", "json",
                              "--dev-url", pg18.server.admin_url)
        assert code == 0, err
        statements = json.loads(out)["statements"]
        set_not_null = next(s for s in statements if s["sql"].endswith('"customer_id" SET NOT NULL'))
        lock = next(k for k in set_not_null["locks"] if k["relation"] == "orders")
        assert lock["mode"] == "AccessExclusiveLock" and lock["held_ms"] >= set_not_null["duration_ms"] > 0
        assert set_not_null["blocked"] and all(b["relation"] == "orders" for b in set_not_null["blocked"])
        # The table output names it as the one that blocks writers longest, with lock and duration.
        code, out, err = _run("rehearse", url, str(tmp_path / "after.sql"), "--dev-url", pg18.server.admin_url)
        assert code == 0, err
        summary = out.strip().splitlines()[-1]
        assert summary.startswith("blocks writers longest: statement ") and "AccessExclusiveLock on orders" in summary
        assert _fingerprint(url) == before
    finally:
        pg18.drop(db)


def test_rehearse_refuses_a_database_in_use(pg18: oracle.Cluster) -> None:
    db = pg18.load("CREATE TABLE t (a int);")
    try:
        with psycopg.connect(pg18.url(db)):
            code, out, err = _run("rehearse", pg18.url(db), "empty")
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and "1 other session(s) are connected" in err
    finally:
        pg18.drop(db)


def test_rehearse_pending_migrations(pg18: oracle.Cluster, tmp_path: Path) -> None:
    """Without a target: the folder's pending migrations (per the copy's history), step by step."""
    from schemashift.migrations import checksum
    from schemashift.migrations.files import read_folder

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_orders.sql").write_text(f"-- schemashift:up\n{BEFORE}\n-- schemashift:down\nDROP TABLE orders;\n")
    (folder / "0002_keys.sql").write_text("-- schemashift:up\nALTER TABLE orders ALTER customer_id SET NOT NULL;\n"
                                          "-- schemashift:down\nALTER TABLE orders ALTER customer_id DROP NOT NULL;\n")
    checksum.write(folder, read_folder(folder))
    db = pg18.create()
    try:
        url = pg18.url(db)
        code, out, err = _run("up", "--url", url, "--migrations", str(folder), "--to", "1")
        assert code == 0, err
        before = _fingerprint(url)
        code, out, err = _run("rehearse", url, "--migrations", str(folder), "--format", "json")
        assert code == 0, err
        [statement] = json.loads(out)["statements"]
        assert statement["statement"] == "0002_keys.sql:2"
        assert {"mode": "AccessExclusiveLock", "relation": "orders"}.items() <= statement["locks"][0].items()
        assert _fingerprint(url) == before
    finally:
        pg18.drop(db)
