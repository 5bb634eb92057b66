"""The versioned side on MariaDB: `new` from SQLAlchemy models writes up and down that `test` proves,
8 concurrent deployers apply each migration once, a file whose 3rd statement fails leaves a history
row naming the 2 that ran and resumes at the 3rd once fixed, and `diff` works between URLs. Every
check reads the server through PyMySQL and information_schema, not through schemashift's inspector."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_models import MODELS_V1, MODELS_V2, one_line_error, run
from schemashift.dialects.mysql.servers import ThrowawayServer

def query(server: ThrowawayServer, database: str, sql: str) -> list[tuple]:
    with server.target.connect(database) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def tables(server: ThrowawayServer, database: str) -> list[str]:
    return [r[0] for r in query(server, database, "SELECT table_name FROM information_schema.tables "
                                                  "WHERE table_schema = DATABASE() ORDER BY table_name")]


@pytest.fixture
def database(mariadb: ThrowawayServer) -> Iterator[str]:
    name = mariadb.create()
    yield name
    mariadb.drop(name)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mariadb: ThrowawayServer) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("DATABASE_URL", "SCHEMASHIFT_URL", "SCHEMASHIFT_TARGET", "SCHEMASHIFT_DIALECT", "SCHEMASHIFT_DEV_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "models.py").write_text(MODELS_V1)
    dev_url = mariadb.target.url("")
    (tmp_path / "schemashift.toml").write_text(f'migrations = "migrations"\ntarget = "python:models:Base"\n'
                                               f'dialect = "mysql"\ndev_url = "{dev_url}"\n')
    assert run("init")[0] == 0
    return tmp_path


def test_new_from_models_round_trips_and_applies(project: Path, mariadb: ThrowawayServer, database: str) -> None:
    url = mariadb.target.url(database)
    code, out, err = run("new", "authors")
    assert code == 0, err
    (project / "models.py").write_text(MODELS_V2)
    code, out, err = run("new", "books")
    assert code == 0, err
    up, down = Path(out.strip()).read_text().split("-- schemashift:down")
    assert "CREATE TABLE `book`" in up and "ON DELETE CASCADE" in up and "DROP TABLE `book`" in down
    code, out, err = run("test")
    assert code == 0, err
    assert out.count("ok  ") == 2
    assert run("up", "--url", url)[0] == 0
    assert tables(mariadb, database) == ["author", "book", "schemashift_history"]
    assert query(mariadb, database, "SELECT version, action, success FROM schemashift_history ORDER BY id") == [
        (1, "up", 1), (2, "up", 1)]
    code, out, err = run("check", "--url", url)
    assert (code, err.strip()) == (0, "ok: the database matches the migrations and the target"), out
    query(mariadb, database, "INSERT INTO author (name) VALUES ('kept')")
    assert run("down", "--url", url)[0] == 0
    assert tables(mariadb, database) == ["author", "schemashift_history"]
    assert query(mariadb, database, "SELECT name FROM author") == [("kept",)]
    assert query(mariadb, database, "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                    "DATABASE() AND table_name = 'author' ORDER BY ordinal_position") == [("id",), ("name",)]


def test_a_failed_statement_resumes_where_it_stopped(project: Path, mariadb: ThrowawayServer, database: str) -> None:
    """MySQL commits around DDL: the 2 statements before the failure stay, the history row says so,
    and the fixed file runs only its 3rd statement."""
    url = mariadb.target.url(database)
    migration = project / "migrations" / "0001_three.sql"
    migration.write_text(textwrap.dedent("""\
        -- schemashift:up
        CREATE TABLE a (id INT PRIMARY KEY);
        CREATE TABLE b (id INT PRIMARY KEY);
        INSERT INTO missing VALUES (1);
        -- schemashift:down
        DROP TABLE b;
        DROP TABLE a;
        """))
    assert run("hash")[0] == 0
    line = one_line_error(*run("up", "--url", url)[::2])
    assert "0001_three.sql:4" in line and "missing" in line
    assert tables(mariadb, database) == ["a", "b", "schemashift_history"]
    code, out, _ = run("status", "--url", url)
    assert code == 1 and "partial: 0001_three.sql up stopped after 2 step(s)" in out
    migration.write_text(migration.read_text().replace("INSERT INTO missing VALUES (1);", "INSERT INTO a VALUES (1);"))
    assert run("hash")[0] == 0
    code, _, err = run("up", "--url", url)
    assert code == 0, err
    assert query(mariadb, database, "SELECT id FROM a") == [(1,)]
    assert query(mariadb, database, "SELECT action, success, steps_done FROM schemashift_history ORDER BY id") == [
        ("up", 0, 2), ("up", 1, 3)]


def test_a_resume_refuses_a_file_whose_done_statements_changed(project: Path, mariadb: ThrowawayServer,
                                                                database: str) -> None:
    url = mariadb.target.url(database)
    migration = project / "migrations" / "0001_three.sql"
    migration.write_text("-- schemashift:up\nCREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO missing VALUES (1);\n"
                         "-- schemashift:down\nDROP TABLE a;\n")
    assert run("hash")[0] == 0
    one_line_error(*run("up", "--url", url)[::2])
    migration.write_text(migration.read_text().replace("id INT PRIMARY KEY", "id BIGINT PRIMARY KEY")
                         .replace("INSERT INTO missing", "INSERT INTO a"))
    assert run("hash")[0] == 0
    line = one_line_error(*run("up", "--url", url)[::2])
    assert "its first 1 statement(s), which ran in the interrupted up, changed" in line
    assert query(mariadb, database, "SELECT count(*) FROM a") == [(0,)]
    assert run("up", "--url", url, "--allow-changed")[0] == 0
    assert query(mariadb, database, "SELECT id FROM a") == [(1,)]


def test_concurrent_deployers_apply_each_migration_once(project: Path, mariadb: ThrowawayServer,
                                                         database: str) -> None:
    url = mariadb.target.url(database)
    query(mariadb, database, "CREATE TABLE ledger (version INT PRIMARY KEY)")  # a second insert would fail
    for v in range(1, 6):
        (project / "migrations" / f"000{v}_step.sql").write_text(
            f"-- schemashift:up\nCREATE TABLE t{v} (id INT);\nINSERT INTO ledger VALUES ({v});\n"
            f"-- schemashift:down\nDELETE FROM ledger WHERE version = {v};\nDROP TABLE t{v};\n")
    assert run("hash")[0] == 0
    env = {**os.environ, "SCHEMASHIFT_SERVER_IDLE": "0"}
    procs = [subprocess.Popen([sys.executable, "-m", "schemashift", "up", "--url", url], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0] * 8, results
    assert query(mariadb, database, "SELECT version FROM ledger ORDER BY version") == [(v,) for v in range(1, 6)]
    assert query(mariadb, database, "SELECT version, count(*) FROM schemashift_history WHERE action = 'up' "
                                    "GROUP BY version ORDER BY version") == [(v, 1) for v in range(1, 6)]


def test_bad_input_is_one_line(project: Path, mariadb: ThrowawayServer, database: str, tmp_path: Path) -> None:
    url = mariadb.target.url(database)
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE a (id int);\nCREATE TABEL b (id int);\n")
    assert f"{bad}:2:" in one_line_error(*run("diff", url, str(bad))[::2])
    assert "Unknown database" in one_line_error(*run("diff", mariadb.target.url("gone"), str(bad))[::2])
    assert "cannot mix dialects" in one_line_error(*run("diff", url, "sqlite:///x.db")[::2])
    assert "Connection refused" in one_line_error(*run("up", "--url", "mysql://u:s3cret@127.0.0.1:1/x")[::2])
    assert tables(mariadb, database) == []
