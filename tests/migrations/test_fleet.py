"""Many targets at once (`--targets`, `--each-schema`, `--jobs`, `--fail-fast`), through the CLI
in-process, on databases cloned on the session's server."""

from __future__ import annotations

import io
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from migration_helpers import cli_run
from psycopg import sql

from schemashift.migrations import fleet
from schemashift.migrations.fleet_display import LiveDisplay

HISTORY = "schemashift.history"
MIGRATIONS = [
    ("0001_accounts.sql", "CREATE TABLE account (id int PRIMARY KEY, name text NOT NULL);", "DROP TABLE account;"),
    ("0002_orders.sql", "CREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES account);",
     "DROP TABLE orders;"),
    ("0003_index.sql", "CREATE INDEX orders_account ON orders (account_id);", "DROP INDEX orders_account;"),
]
HEAD = len(MIGRATIONS)
CONFLICT = "CREATE TABLE orders (note text)"  # makes the 2nd migration fail where it was run


@pytest.fixture
def project(folder):
    for name, up, down in MIGRATIONS:
        folder.add(name, up, down)
    return folder


@pytest.fixture
def databases(server) -> Iterator[callable]:
    """`databases(n)`: URLs of n new empty databases, dropped afterwards. FILE_COPY clones the
    template's files at once (a third faster than the default WAL_LOG for a small template)."""
    made: list[str] = []
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        def make(count: int) -> list[str]:
            names = [f"fleet_{uuid.uuid4().hex[:12]}" for _ in range(count)]
            for name in names:
                admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 STRATEGY FILE_COPY").format(
                    sql.Identifier(name)))
                made.append(name)
            return [server.url(name) for name in names]

        yield make
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def targets_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "targets.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def fleet_run(folder, *args: str):
    return cli_run(*args, "--migrations", str(folder.path), "--history-table", HISTORY)


def history(db, url: str, table: str = HISTORY) -> list[tuple]:
    return db.query(url, f"SELECT version, success, applied_at FROM {table} ORDER BY id")


def summary_rows(out: str) -> dict[str, list[str]]:
    """The summary table's rows by target (the table follows the per-target lines)."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("target "))
    return {line.split()[0]: line.split(None, 4)[1:] for line in lines[start + 1:-1]}


def test_hundred_databases_one_failing_then_rerun_migrates_only_it(project, databases, db, tmp_path):
    urls = databases(100)
    broken = urls[37]
    db.query(broken, CONFLICT)
    file = targets_file(tmp_path, ["# the fleet", "", *urls])

    first = fleet_run(project, "up", "--targets", str(file), "--jobs", "4")

    assert first.code == 1
    assert first.err.strip() == "schemashift: 1 of 100 target(s) failed"
    rows = summary_rows(first.out)
    assert len(rows) == 100
    assert rows[broken][:3] == ["failed", "1", "2"]
    assert 'relation "orders" already exists' in rows[broken][3]
    assert "0002_orders.sql" in rows[broken][3]
    assert all(rows[url][:3] == ["done", str(HEAD), "0"] for url in urls if url != broken)
    assert sum(1 for line in first.out.splitlines() if line.startswith("done ")) == 99  # one line per target
    for url in urls:
        applied = [v for v, ok, _ in history(db, url) if ok]
        assert applied == ([1] if url == broken else [1, 2, 3])
    before = {url: history(db, url) for url in urls}

    db.query(broken, "DROP TABLE orders")
    second = fleet_run(project, "up", "--targets", str(file), "--jobs", "4")

    assert second.code == 0, second.err
    rows = summary_rows(second.out)
    assert rows[broken][:3] == ["done", "2", "0"]
    assert all(rows[url][:3] == ["done", "0", "0"] for url in urls if url != broken)
    for url in urls:
        if url != broken:
            assert history(db, url) == before[url]  # not a row more: untouched
    assert [v for v, ok, _ in history(db, broken)] == [1, 2, 2, 3]


def schemas_database(db, url: str, count: int) -> list[str]:
    names = [f"tenant_{k:02d}" for k in range(1, count + 1)]
    with psycopg.connect(url, autocommit=True) as conn:
        for name in [*names, "other"]:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    return names


def test_fifty_schemas_one_failing_then_rerun_migrates_only_it(project, url, db):
    tenants = schemas_database(db, url, 50)
    db.query(url, f"{CONFLICT.replace('orders', 'tenant_13.orders')}")

    first = fleet_run(project, "up", "--url", url, "--each-schema", "tenant_%", "--jobs", "4")

    assert first.code == 1
    assert first.err.strip() == "schemashift: 1 of 50 target(s) failed"
    rows = summary_rows(first.out)
    assert sorted(rows) == tenants  # `other` does not match
    assert rows["tenant_13"][:3] == ["failed", "1", "2"]
    assert 'relation "orders" already exists' in rows["tenant_13"][3]
    for tenant in tenants:
        versions = [v for v, ok, _ in history(db, url, f"{tenant}.history") if ok]
        assert versions == ([1] if tenant == "tenant_13" else [1, 2, 3])
    tables = db.query(url, "SELECT table_schema, count(*) FROM information_schema.tables "
                           "WHERE table_name IN ('account', 'orders') GROUP BY 1")
    assert dict(tables) == {t: 2 for t in tenants}  # each tenant's own tables, none in public
    assert db.query(url, "SELECT to_regclass('schemashift.history')") == [(None,)]
    before = {t: history(db, url, f"{t}.history") for t in tenants}

    db.query(url, "DROP TABLE tenant_13.orders")
    second = fleet_run(project, "up", "--url", url, "--each-schema", "tenant_*", "--jobs", "4")

    assert second.code == 0, second.err
    rows = summary_rows(second.out)
    assert rows["tenant_13"][:3] == ["done", "2", "0"]
    assert all(rows[t][:3] == ["done", "0", "0"] for t in tenants if t != "tenant_13")
    for tenant in tenants:
        if tenant != "tenant_13":
            assert history(db, url, f"{tenant}.history") == before[tenant]
    assert db.query(url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_account'") == [(50,)]
    status = fleet_run(project, "status", "--url", url, "--each-schema", "tenant_%", "--jobs", "4")
    assert status.code == 0, status.err
    assert all(row[:3] == ["ok", "3", "0"] for row in summary_rows(status.out).values())


def test_fail_fast_skips_the_targets_not_started(project, databases, db, tmp_path):
    urls = databases(5)
    db.query(urls[1], CONFLICT)
    file = targets_file(tmp_path, urls)

    result = fleet_run(project, "up", "--targets", str(file), "--jobs", "1", "--fail-fast")

    assert result.code == 1
    assert result.err.strip() == "schemashift: 1 of 5 target(s) failed, 3 skipped"
    rows = summary_rows(result.out)
    assert [rows[u][0] for u in urls] == ["done", "failed", "skipped", "skipped", "skipped"]
    assert all(db.query(u, "SELECT to_regclass('schemashift.history')") == [(None,)] for u in urls[2:])


def test_environment_is_expanded_and_a_missing_variable_named(project, databases, tmp_path, monkeypatch):
    first, second = databases(2)
    monkeypatch.setenv("FLEET_FIRST", first)
    base, query = second.split("?")
    monkeypatch.setenv("FLEET_DB", base.rsplit("/", 1)[1])
    line = base.rsplit("/", 1)[0] + "/${FLEET_DB}?" + query
    file = targets_file(tmp_path, ["$FLEET_FIRST", line])

    result = fleet_run(project, "up", "--targets", str(file))

    assert result.code == 0, result.err
    assert set(summary_rows(result.out)) == {first, second}

    monkeypatch.delenv("FLEET_DB")
    message = fleet_run(project, "up", "--targets", str(file)).one_line_error()
    assert message == f"schemashift: {file}:2: the environment variable FLEET_DB is not set"


@pytest.mark.parametrize(("lines", "error"), [
    (["postgresql://app@localhost/a", "not a url"], "{file}:2: not a database URL (postgresql://...): not a url"),
    (["host=localhost password=s3cret"], "{file}:1: not a database URL (postgresql://...): host=localhost password=***"),
    (["postgresql://u:s3cret@[::1/a"], "{file}:1: not a database URL (postgresql://...): postgresql://u:***@[::1/a"),
    (["# nothing", ""], "{file}: no targets (one database URL a line)"),
    (["postgresql://u:s3cret@localhost/a", "postgresql://u:s3cret@localhost/a"], "{file}:2: the same target as line 1"),
])
def test_a_bad_targets_file_is_one_line_naming_it(project, tmp_path, lines, error):
    file = targets_file(tmp_path, lines)

    message = fleet_run(project, "up", "--targets", str(file)).one_line_error()

    assert message == "schemashift: " + error.format(file=file)


def test_conflicting_options_are_one_line(project, tmp_path, url):
    file = targets_file(tmp_path, [url])
    cases = {
        ("--targets", str(file), "--each-schema", "t%"): "pass --targets FILE or --each-schema PATTERN, not both",
        ("--targets", str(file), "--sql"): "--sql takes one database, not --targets or --each-schema",
        ("--url", url, "--jobs", "2"): "--jobs and --fail-fast need --targets FILE or --each-schema PATTERN",
        ("--targets", str(tmp_path / "absent.txt")): "cannot read the targets file",
    }
    for args, error in cases.items():
        assert error in fleet_run(project, "up", *args).one_line_error()


def test_status_targets_reports_each_and_hides_passwords(project, databases, db, tmp_path):
    urls = databases(3)
    assert fleet_run(project, "up", "--url", urls[0]).code == 0
    assert fleet_run(project, "up", "--url", urls[1], "--to", "1").code == 0
    with_password = urls[2].replace("postgres@", "postgres:s3cret-pw@")  # trust: the password is unused
    file = targets_file(tmp_path, [urls[0], urls[1], with_password])

    result = fleet_run(project, "status", "--targets", str(file), "--jobs", "2")

    assert result.code == 1
    assert result.err.strip() == "schemashift: 2 of 3 target(s) not ok"
    assert "s3cret-pw" not in result.out + result.err
    rows = summary_rows(result.out)
    assert rows[urls[0]] == ["ok", "3", "0"]
    assert rows[urls[1]] == ["behind", "1", "2", "2 pending"]
    redacted = urls[2].replace("postgres@", "postgres:***@")
    assert rows[redacted] == ["behind", "0", "3", "3 pending"]
    assert fleet_run(project, "up", "--targets", str(file)).code == 0
    assert fleet_run(project, "status", "--targets", str(file)).code == 0


def test_live_display_shows_running_and_finished_targets(project, databases, db):
    from rich.console import Console

    from schemashift.config import Settings
    from schemashift.migrations.runner import Project

    urls = databases(3)
    db.query(urls[2], CONFLICT)
    screen = io.StringIO()
    display = LiveDisplay(Console(file=screen, force_terminal=True, color_system=None, width=400), total=3)
    targets = [fleet.Target(u, u, HISTORY) for u in urls]
    settings = Settings(migrations=project.path, history_table=HISTORY)

    outcomes = fleet.run(Project.load(settings), targets, fleet.up_work(), display, jobs=2)

    assert [o.state for o in outcomes] == ["done", "done", "failed"]
    shown = screen.getvalue()
    assert shown.count("✓ done") == 2 and "✗ failed" in shown
    assert "3 of 3 finished" in shown
    assert 'relation "orders" already exists' in shown


def test_check_compares_each_database_and_each_schema(project, databases, url, db, tmp_path):
    urls = databases(2)
    file = targets_file(tmp_path, urls)
    assert fleet_run(project, "up", "--targets", str(file)).code == 0
    db.query(urls[1], "ALTER TABLE account ADD COLUMN nick text")
    tenants = ["tenant a", 'tenant "b"', "tenant_c"]  # odd names: search_path must quote them
    with psycopg.connect(url, autocommit=True) as conn:
        for name in tenants:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    assert fleet_run(project, "up", "--url", url, "--each-schema", "tenant*", "--jobs", "3").code == 0
    db.query(url, 'ALTER TABLE "tenant a".orders ADD COLUMN note text')

    databases_checked = fleet_run(project, "check", "--targets", str(file), "--jobs", "2")
    schemas_checked = fleet_run(project, "check", "--url", url, "--each-schema", "tenant%", "--jobs", "2")

    assert databases_checked.code == 1 and schemas_checked.code == 1
    rows = summary_rows(databases_checked.out)
    assert rows[urls[0]] == ["ok", "?", "0"]
    assert rows[urls[1]][:3] == ["behind", "?", "0"]
    assert 'DROP COLUMN "nick"' in rows[urls[1]][3]
    table = [line for line in schemas_checked.out.splitlines() if line.startswith("tenant")]
    assert len(table) == 3
    assert [line.startswith("tenant a ") for line in table] == [False, True, False]  # "b" sorts before "a"
    assert 'behind        ?        0  1 statement(s) of drift, first: ALTER TABLE "tenant a"."orders" DROP COLUMN' \
        in table[1]
    assert all("  ok  " in line for line in (table[0], table[2]))
    assert schemas_checked.err.strip() == "schemashift: 1 of 3 target(s) not ok"


def test_an_unreachable_target_fails_alone_with_its_password_hidden(project, databases, tmp_path):
    (reachable,) = databases(1)
    unreachable = "postgresql://app:s3cret-pw@127.0.0.1:1/nowhere"  # nothing listens on port 1
    file = targets_file(tmp_path, [unreachable, reachable])

    result = fleet_run(project, "up", "--targets", str(file), "--jobs", "2")

    assert result.code == 1
    assert "s3cret-pw" not in result.out + result.err
    rows = summary_rows(result.out)
    assert rows[reachable][:3] == ["done", "3", "0"]
    state, applied, pending, error = rows["postgresql://app:***@127.0.0.1:1/nowhere"]
    assert (state, applied, pending) == ("failed", "0", "?")
    assert error.startswith("cannot connect to the database:")
    status = summary_rows(fleet_run(project, "status", "--targets", str(file)).out)
    assert status["postgresql://app:***@127.0.0.1:1/nowhere"][:3] == ["failed", "?", "?"]  # not known
    assert status[reachable] == ["ok", "3", "0"]


def test_sqlite_targets_run_the_same_way(project, tmp_path):
    files = [tmp_path / "a.db", tmp_path / "b.db"]
    for file in files:
        with closing(sqlite3.connect(file)) as conn:
            conn.execute("VACUUM")  # the file exists: SQLite targets are databases, not paths to create
    with closing(sqlite3.connect(files[1])) as conn:
        conn.execute(CONFLICT)
    urls = [f"sqlite:///{file}" for file in files]
    targets = targets_file(tmp_path, urls)

    result = cli_run("up", "--targets", str(targets), "--jobs", "2", "--migrations", str(project.path))

    assert result.code == 1
    rows = summary_rows(result.out)
    assert rows[urls[0]] == ["done", "3", "0"]
    assert rows[urls[1]][:3] == ["failed", "1", "2"] and "already exists" in rows[urls[1]][3]


def test_strict_refuses_each_target_whose_pending_migrations_lint_with_an_error(make_folder, databases, db,
                                                                                 tmp_path):
    folder = make_folder("strict")
    folder.add("0001_index.sql", "CREATE INDEX orders_total ON orders (total);", "DROP INDEX orders_total;")
    urls = databases(2)
    for url in urls:
        db.query(url, "CREATE TABLE orders (id bigint PRIMARY KEY, total bigint)")
    file = targets_file(tmp_path, urls)

    result = fleet_run(folder, "up", "--targets", str(file), "--jobs", "2", "--strict")

    assert result.code == 1
    rows = summary_rows(result.out)
    assert all(rows[u][:3] == ["failed", "0", "1"] and "error-level lint finding" in rows[u][3] for u in urls)
    assert all(db.query(u, f"SELECT count(*) FROM {HISTORY}") == [(0,)] for u in urls)
    assert fleet_run(folder, "up", "--targets", str(file)).code == 0  # without --strict: applied
