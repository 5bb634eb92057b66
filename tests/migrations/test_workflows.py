"""The everyday workflows on a sample project (SQLAlchemy models + migrations folder): `new` from the
models, `check`, `sync`, `test`, `dump`, `up --backup`, and the pytest plugin's fixtures."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import psycopg
import pytest

import schemashift
from conftest import Folder, cli_run
from oracle import assert_same_catalog
from schemashift.dialects.postgres import servers
from schemashift.model import Schema
from schemashift.models_source import models_sql

SAMPLE = Path(__file__).resolve().parent.parent / "sample_project"
MODELS = "python:sample_models:Base"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample project as the current directory (its schemashift.toml names the target)."""
    copy = tmp_path / "project"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)
    for name in ("DATABASE_URL", "SCHEMASHIFT_URL", "SCHEMASHIFT_TARGET", "SCHEMASHIFT_MIGRATIONS"):
        monkeypatch.delenv(name, raising=False)
    return copy


def schema_of(url: str) -> Schema:
    return schemashift.inspect(url, ignore_tables=["public.schemashift_history"])


def change_models(project: Path) -> None:
    shutil.copy(project / "changed" / "sample_models.py", project / "sample_models.py")


def test_new_writes_up_and_down_that_round_trip(project: Path, url: str, server: servers.Server) -> None:
    assert cli_run("new", "nothing yet").code == 0
    assert sorted(p.name for p in (project / "migrations").glob("*.sql")) == ["0001_accounts.sql"]

    assert cli_run("up", "--url", url).code == 0
    before = schema_of(url)
    change_models(project)
    made = cli_run("new", "orders and display names")
    assert made.code == 0, made.err
    written = project / "migrations" / "0002_orders_and_display_names.sql"
    assert made.out.strip() == str(written)
    up, down = written.read_text().split("-- schemashift:down")
    for expected in ('ADD COLUMN "Display Name" text', "CREATE INDEX ix_account_display_name",
                     "ADD VALUE 'closed'", 'CREATE TABLE "shop"."order"', "FOREIGN KEY (account_id)"):
        assert expected in up
    assert "-- UNSAFE: drops table shop.order" in down

    assert cli_run("up", "--url", url).code == 0
    assert not schemashift.diff(url, MODELS, ignore_tables=["public.schemashift_history"])
    with server.scratch_database() as models_url:  # the models loaded directly, judged by the oracle
        with psycopg.connect(models_url, autocommit=True) as conn:
            conn.execute(models_sql(MODELS, "postgresql+psycopg://").encode())
        assert_same_catalog(url, models_url)

    assert cli_run("down", "--url", url).code == 0
    assert schema_of(url) == before

    again = cli_run("new", "again")
    assert again.code == 0 and "no changes" in again.err
    assert len(list((project / "migrations").glob("*.sql"))) == 2


def test_check_finds_drift_and_sync_repairs_it(project: Path, schemashift_database: str) -> None:
    url = schemashift_database  # the pytest plugin's database at the sample project's head
    assert cli_run("check", "--url", url).code == 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX shop.ix_account_status")
        conn.execute("ALTER TABLE shop.account ALTER COLUMN email SET DEFAULT 'nobody'")

    drifted = cli_run("check", "--url", url)
    assert drifted.code == 1
    assert "CREATE INDEX ix_account_status ON shop.account USING btree (status);" in drifted.out
    assert 'ALTER TABLE "shop"."account" ALTER COLUMN "email" DROP DEFAULT;' in drifted.out
    assert cli_run("sync", "--url", url, "--yes").code == 0
    assert cli_run("check", "--url", url).code == 0


def test_sync_refuses_drops_without_unsafe(project: Path, schemashift_database: str) -> None:
    url = schemashift_database
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('ALTER TABLE shop.account ADD COLUMN "Nick name" text')
    assert 'ALTER TABLE "shop"."account" DROP COLUMN "Nick name";' in cli_run("check", "--url", url).out
    refused = cli_run("sync", "--url", url, "--yes")
    assert refused.code == 3 and "DROP COLUMN" in refused.err
    assert cli_run("check", "--url", url).code == 1  # a refused sync changes nothing
    synced = cli_run("sync", "--url", url, "--yes", "--unsafe")
    assert synced.code == 0, synced.err
    assert cli_run("check", "--url", url).code == 0
    assert cli_run("sync", "--url", url, "--yes").err.strip() == "already in sync"


def test_check_ignores_a_history_table_in_its_own_schema(project: Path, url: str) -> None:
    assert cli_run("up", "--url", url, "--history-table", "deploys.history").code == 0
    result = cli_run("check", "--url", url, "--history-table", "deploys.history")
    assert result.code == 0, result.out


def test_check_with_target_reports_models_the_migrations_lack(project: Path, schemashift_database: str) -> None:
    change_models(project)
    result = cli_run("check", "--url", schemashift_database)
    assert result.code == 1
    assert "the migrations do not build the target" in result.out and "ADD VALUE 'closed'" in result.out


def test_check_reports_pending_migrations(project: Path, url: str) -> None:
    change_models(project)
    assert cli_run("new", "orders").code == 0
    assert cli_run("up", "--url", url, "--to", "1").code == 0
    result = cli_run("check", "--url", url)
    assert result.code == 1 and "-- pending: 0002_orders.sql (run `schemashift up`)" in result.out
    assert 'CREATE TABLE "shop"."order"' in result.out


def test_test_passes_on_a_correct_folder(project: Path) -> None:
    change_models(project)
    assert cli_run("new", "orders").code == 0
    result = cli_run("test")
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines() == ["ok  0001_accounts.sql", "ok  0002_orders.sql"]


def test_test_names_a_down_that_forgets_a_column(folder: Folder) -> None:
    folder.add("0001_t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    folder.add("0002_c.sql", "ALTER TABLE t ADD COLUMN note text;", "SELECT 1;")
    folder.add("0003_i.sql", "CREATE INDEX t_id ON t (id);", "DROP INDEX t_id;")
    result = cli_run("test", "--migrations", str(folder.path))
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "ok  0001_t.sql"
    assert lines[1] == "FAIL  0002_c.sql: down does not undo up; the down section misses:"
    assert 'ALTER TABLE "public"."t" DROP COLUMN "note";' in result.out
    assert "0003" not in result.out


def test_dump_prints_what_builds_the_models(project: Path, url: str) -> None:
    dumped = cli_run("dump", MODELS)
    assert dumped.code == 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(dumped.out.encode())
    assert not schemashift.diff(url, MODELS)
    as_json = cli_run("dump", MODELS, "--format", "json")
    assert '"key": [\n        "table",\n        "shop",\n        "account"\n      ]' in as_json.out


@pytest.mark.parametrize("suffix", [".sql", ".dump"])
def test_up_backup_dumps_the_database_before_migrating(any_url: str, folder: Folder, tmp_path: Path,
                                                     suffix: str) -> None:
    folder.add("0001_a.sql", "CREATE TABLE before_backup (id int);", "DROP TABLE before_backup;")
    assert cli_run("up", "--url", any_url, "--migrations", str(folder.path)).code == 0
    folder.add("0002_b.sql", "CREATE TABLE after_backup (id int);", "DROP TABLE after_backup;")
    backup = tmp_path / f"backup{suffix}"
    result = cli_run("up", "--url", any_url, "--migrations", str(folder.path), "--backup", str(backup))
    assert result.code == 0, result.err
    content = backup.read_bytes()
    assert b"before_backup" in content and b"after_backup" not in content
    if suffix == ".sql":
        major = psycopg.connect(any_url).info.server_version // 10000
        assert f"-- Dumped by pg_dump version {major}.".encode() in content


def test_a_failed_backup_applies_nothing(url: str, folder: Folder, tmp_path: Path) -> None:
    folder.add("0001_a.sql", "CREATE TABLE a (id int);", "DROP TABLE a;")
    result = cli_run("up", "--url", url, "--migrations", str(folder.path), "--backup",
                     str(tmp_path / "missing" / "dir" / "b.sql"))
    assert result.one_line_error().startswith("schemashift: backup failed, nothing applied: ")
    assert ("table", "public", "a") not in schema_of(url).objects


@pytest.mark.parametrize("spec, message", [
    ("python:sample_models", "expected python:pkg.module:attribute"),
    ("python:no_such_module:Base", "cannot import no_such_module: ModuleNotFoundError"),
    ("python:sample_models:Missing", "sample_models has no attribute 'Missing'"),
    ("python:sample_models:Status", "Status is not a SQLAlchemy MetaData or declarative base"),
])
def test_bad_models_source_is_one_line(project: Path, spec: str, message: str) -> None:
    assert message in cli_run("diff", "empty", spec).one_line_error()


def test_new_without_target_says_how_to_give_one(folder: Folder, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = cli_run("new", "x", "--migrations", str(folder.path)).one_line_error()
    assert "no target schema: pass --target" in line


def test_migrations_source_replays_the_folder(folder: Folder, url: str) -> None:
    folder.add("0001_e.sql", "CREATE TYPE mood AS ENUM ('sad');", "DROP TYPE mood;")
    folder.add("0002_v.sql", "ALTER TYPE mood ADD VALUE 'happy';\nCREATE TABLE m (x mood DEFAULT 'happy');",
               "DROP TABLE m;")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE m (x mood DEFAULT 'happy')")
    assert not schemashift.diff(f"migrations:{folder.path}", url)


PREPOST_TEST = textwrap.dedent('''
    import psycopg

    def test_columns(schemashift_database, schemashift_phase):
        with psycopg.connect(schemashift_database) as conn:
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_name = 't' order by 1")]
        assert columns == {"before": ["id"], "after": ["id", "note"]}[schemashift_phase]
''')


def test_plugin_runs_tests_before_and_after_pending_migrations(pytester: pytest.Pytester, folder: Folder) -> None:
    folder.add("0001_t.sql", "CREATE TABLE t (id int);", "DROP TABLE t;")
    folder.add("0002_note.sql", "ALTER TABLE t ADD COLUMN note text;", "ALTER TABLE t DROP COLUMN note;")
    pytester.makeini(f"[pytest]\nschemashift_migrations = {folder.path}\n")
    pytester.makepyfile(test_app=PREPOST_TEST)
    result = pytester.runpytest_inprocess("--schemashift-prepost", "1", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_columns?before? PASSED*", "*test_columns?after? PASSED*"])


@pytest.mark.parametrize("args, message", [
    (["sync", "--target", "schema.sql"], "no database URL: pass --url or set DATABASE_URL"),
    (["check", "--migrations", "nowhere"], "no migrations folder at nowhere"),
    (["test", "--migrations", "nowhere"], "no migrations folder at nowhere"),
    (["dump", "nowhere.sql"], "nowhere.sql: no such file or folder"),
    (["new", "x", "--target", "nowhere.sql"], "nowhere.sql: no such file or folder"),
])
def test_workflow_commands_report_bad_input_in_one_line(args: list[str], message: str, folder: Folder,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    args = [*args, "--migrations", str(folder.path)] if args[0] == "new" else args
    assert message in cli_run(*args).one_line_error()
