"""A database's schema is kept between calls while its catalogs are as they were: the digest
(`dialects.postgres.catalog_state`) must change with every kind of schema change, stay the same
through what only touches data or statistics, and what is served from the cache must equal a
fresh inspection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import oracle
from schemashift import api, schema_cache
from schemashift.dialects.base import InspectOptions
from schemashift.dialects.postgres.catalog_state import catalog_state

BASE = """
CREATE ROLE "ss state reader";
CREATE TYPE mood AS ENUM ('a', 'b');
CREATE SEQUENCE counter;
CREATE TABLE "Tëst" (id int PRIMARY KEY, v text DEFAULT 'x', m mood, n int);
CREATE INDEX t_v ON "Tëst" (v);
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'select x + 1';
CREATE VIEW w AS SELECT id, v FROM "Tëst";
INSERT INTO "Tëst" VALUES (1, 'one', 'a', 1);
DO $$ BEGIN  -- enough relations to be worth keeping (catalog_state.WORTH_KEEPING), and objects
    -- to be written aside (schema_cache.KEEP_ASIDE)
    FOR i IN 1..600 LOOP EXECUTE format('CREATE TABLE filler_%s (id int PRIMARY KEY, t text)', i); END LOOP;
END $$;
"""

CHANGES = [
    'ALTER TABLE "Tëst" ADD COLUMN extra int',
    'ALTER TABLE "Tëst" ALTER COLUMN v SET DEFAULT \'y\'',
    'ALTER TABLE "Tëst" ALTER COLUMN n SET NOT NULL',
    'ALTER TABLE "Tëst" ALTER COLUMN n TYPE bigint',
    'COMMENT ON COLUMN "Tëst".v IS \'a comment\'',
    'COMMENT ON TABLE "Tëst" IS \'a comment\'',
    'GRANT SELECT ON "Tëst" TO "ss state reader"',
    'GRANT USAGE ON SCHEMA public TO "ss state reader"',
    "ALTER TYPE mood ADD VALUE 'c'",
    "ALTER SEQUENCE counter INCREMENT BY 5",
    'CREATE INDEX t_n ON "Tëst" (n)',
    "DROP INDEX t_v",
    'ALTER TABLE "Tëst" ADD CONSTRAINT n_positive CHECK (n > 0)',
    'ALTER TABLE "Tëst" RENAME CONSTRAINT "Tëst_pkey" TO t_pkey',
    "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'select x + 2'",
    "CREATE OR REPLACE VIEW w AS SELECT id, v FROM \"Tëst\" WHERE id > 0",
    'ALTER TABLE "Tëst" ENABLE ROW LEVEL SECURITY',
    'CREATE POLICY p ON "Tëst" USING (id > 0)',
    'ALTER ROLE "ss state reader" RENAME TO "ss state reader 2"',
    'ALTER TABLE "Tëst" SET (fillfactor = 70)',
    "CREATE SCHEMA other",
]

UNCHANGED = [
    'INSERT INTO "Tëst" VALUES (2, \'two\', \'b\', 2)',
    "SELECT nextval('counter')",
    'ANALYZE "Tëst"',
    'VACUUM (FREEZE) "Tëst"',
    "VACUUM (FREEZE) pg_catalog.pg_class",
    "ANALYZE",
]


@pytest.fixture(scope="module")
def template(pg18: oracle.Cluster) -> Iterator[str]:
    name = pg18.load(BASE)
    yield name
    pg18.drop(name)
    with psycopg.connect(pg18.server.admin_url, autocommit=True) as admin:
        admin.execute('DROP ROLE "ss state reader"')


@pytest.fixture()
def base(pg18: oracle.Cluster, template: str) -> Iterator[str]:
    name = pg18.create(template)
    yield pg18.url(name)
    pg18.drop(name)
    with psycopg.connect(pg18.server.admin_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'ss state reader 2'").fetchone():
            admin.execute('ALTER ROLE "ss state reader 2" RENAME TO "ss state reader"')


def _state(url: str) -> str | None:
    with psycopg.connect(url, autocommit=True) as conn:
        return catalog_state(conn)


def _run(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.mark.xdist_group("catalog_state")
def test_every_kind_of_schema_change_changes_the_state(base: str) -> None:
    seen = {_state(base)}
    assert None not in seen
    for sql in CHANGES:
        _run(base, sql)
        now = _state(base)
        assert now not in seen, f"state unchanged by: {sql}"
        seen.add(now)


@pytest.mark.xdist_group("catalog_state")
def test_data_and_statistics_leave_the_state(base: str) -> None:
    before = _state(base)
    for sql in UNCHANGED:
        _run(base, sql)
        assert _state(base) == before, f"state changed by: {sql}"


@pytest.mark.xdist_group("catalog_state")
def test_a_copy_has_the_state_and_another_database_does_not_change_it(pg18: oracle.Cluster, base: str) -> None:
    before = _state(base)
    copy = pg18.create(psycopg.conninfo.conninfo_to_dict(base)["dbname"])
    try:
        assert _state(pg18.url(copy)) == before
        _run(pg18.url(copy), "CREATE TABLE only_in_the_copy (x int)")
        assert _state(pg18.url(copy)) != before
        assert _state(base) == before
    finally:
        pg18.drop(copy)


@pytest.mark.xdist_group("catalog_state")
def test_a_small_database_is_simply_inspected(pg18: oracle.Cluster) -> None:
    name = pg18.load("CREATE TABLE t (id int PRIMARY KEY)")
    try:
        assert _state(pg18.url(name)) is None
    finally:
        pg18.drop(name)


@pytest.mark.xdist_group("catalog_state")
def test_a_user_without_privileges_gets_a_state_or_none_never_an_error(pg18: oracle.Cluster, base: str) -> None:
    _run(base, 'ALTER ROLE "ss state reader" LOGIN')
    reader = base.replace("postgres@", "ss%20state%20reader@", 1)
    with psycopg.connect(reader, autocommit=True) as conn:
        first = catalog_state(conn)
        assert conn.execute("select 1").fetchone() == (1,)  # the connection is still usable
    assert first is None or first == _state(reader)


def _kept(entry: str | None, seconds: float = 20) -> bool:
    """The entry is written by a process of its own: wait for it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if schema_cache.get(entry) is not None:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.xdist_group("catalog_state")
def test_a_kept_schema_equals_a_fresh_inspection_and_a_change_is_seen(
        base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fresh = api.inspect(base)
    with psycopg.connect(base, autocommit=True) as conn:
        entry = schema_cache.key("postgresql", InspectOptions(), catalog_state(conn))
    assert _kept(entry)
    assert api.inspect(base) == fresh
    _run(base, 'ALTER TABLE "Tëst" ADD COLUMN later int')
    changed = api.inspect(base)
    monkeypatch.setenv(schema_cache.CACHE_ENV, "0")
    assert changed == api.inspect(base) != fresh
    assert api.diff(base, base, locks=False).statements == []


@pytest.mark.xdist_group("catalog_state")
def test_read_ahead_serves_the_kept_schemas_from_memory(
        base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm process reads the newest entries ahead; what it serves equals what was kept, and an
    entry no call uses any more is let go."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(schema_cache, "_read_ahead", {})
    fresh = api.inspect(base)
    with psycopg.connect(base, autocommit=True) as conn:
        entry = schema_cache.key("postgresql", InspectOptions(), catalog_state(conn))
    assert _kept(entry)
    schema_cache.read_ahead()
    for kept in (tmp_path / "schemashift" / "schemas").iterdir():
        kept.unlink()
    assert schema_cache.get(entry) == fresh
    schema_cache.read_ahead()
    assert schema_cache.get(entry) is None


def test_no_cache_holds_for_its_own_command_only(tmp_path: Path) -> None:
    """`--no-cache` in a CLI call made in-process (CliRunner, the pytest plugin) leaves the caches
    on for what the process does next."""
    from click.testing import CliRunner

    from schemashift.cli import cli
    from schemashift.dialects.postgres import template_cache

    sql = tmp_path / "a.sql"
    sql.write_text("CREATE TABLE t (id int);\n")
    result = CliRunner().invoke(cli, ["diff", "--no-cache", "--dialect", "sqlite", str(sql), str(sql)])
    assert result.exit_code == 0, result.output
    assert schema_cache.enabled() and template_cache.policy().enabled
