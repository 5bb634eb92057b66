"""The versioned side on SQLite: `new` from SQLAlchemy models writes up and down that `test` proves,
`up`/`down`/`status`/`history` on a database file, a failed migration leaves the file as it was, and
concurrent deployers apply each migration once. Every check reads the file with the sqlite3 shell's
pragmas or SQL, not only through schemashift."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_models import MODELS_V1, MODELS_V2, one_line_error, run

def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def history(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version, action, success FROM schemashift_history ORDER BY id").fetchall()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("DATABASE_URL", "SCHEMASHIFT_URL", "SCHEMASHIFT_TARGET", "SCHEMASHIFT_DIALECT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "models.py").write_text(MODELS_V1)
    (tmp_path / "schemashift.toml").write_text('migrations = "migrations"\ntarget = "python:models:Base"\n'
                                               'dialect = "sqlite"\n')
    sqlite3.connect(tmp_path / "app.db").close()
    assert run("init")[0] == 0
    return tmp_path


def test_new_from_models_round_trips_and_applies(project: Path) -> None:
    db = f"sqlite:///{project / 'app.db'}"
    code, out, err = run("new", "authors")
    assert code == 0, err
    (project / "models.py").write_text(MODELS_V2)
    code, out, err = run("new", "books")
    assert code == 0, err
    written = Path(out.strip())
    up, down = written.read_text().split("-- schemashift:down")
    assert 'CREATE TABLE "book"' in up and "ON DELETE CASCADE" in up and 'DROP TABLE "book"' in down
    code, out, err = run("test")
    assert code == 0, err
    assert out.count("ok  ") == 2

    assert run("up", "--url", db)[0] == 0
    assert tables(project / "app.db") == ["author", "book", "schemashift_history"]
    assert history(project / "app.db") == [(1, "up", 1), (2, "up", 1)]
    code, out, _ = run("status", "--url", db)
    assert code == 0 and out.splitlines() == ["current: 0002_books.sql"], out
    code, out, err = run("check", "--url", db)
    assert (code, err.strip()) == (0, "ok: the database matches the migrations and the target"), out
    with sqlite3.connect(project / "app.db") as conn:
        conn.execute("INSERT INTO author (name) VALUES ('kept')")
    assert run("down", "--url", db)[0] == 0
    assert tables(project / "app.db") == ["author", "schemashift_history"]
    with sqlite3.connect(project / "app.db") as conn:
        assert conn.execute("SELECT name FROM author").fetchall() == [("kept",)]
        assert conn.execute("PRAGMA table_info(author)").fetchall() == [
            (0, "id", "INTEGER", 1, None, 1), (1, "name", "VARCHAR(100)", 1, None, 0)]


def test_a_failed_migration_leaves_the_database_as_it_was(project: Path) -> None:
    db = f"sqlite:///{project / 'app.db'}"
    folder = project / "migrations"
    (folder / "0001_two_tables.sql").write_text(textwrap.dedent("""\
        -- schemashift:up
        CREATE TABLE a (id INTEGER PRIMARY KEY);
        CREATE TABLE b (id INTEGER PRIMARY KEY);
        INSERT INTO missing VALUES (1);
        -- schemashift:down
        DROP TABLE b;
        DROP TABLE a;
        """))
    assert run("hash")[0] == 0
    code, _, err = run("up", "--url", db)
    line = one_line_error(code, err)
    assert "0001_two_tables.sql:4" in line and "no such table: missing" in line
    assert tables(project / "app.db") == ["schemashift_history"]
    assert history(project / "app.db") == [(1, "up", 0)]
    (folder / "0001_two_tables.sql").write_text((folder / "0001_two_tables.sql").read_text()
                                                .replace("INSERT INTO missing VALUES (1);\n", ""))
    assert run("hash")[0] == 0
    assert run("up", "--url", db)[0] == 0
    assert tables(project / "app.db") == ["a", "b", "schemashift_history"]


def test_a_rebuild_written_by_diff_runs_as_a_migration(project: Path) -> None:
    """`diff` writes a table rebuild with its own BEGIN/COMMIT and foreign_keys pragmas; the runner
    owns the transaction, turns foreign keys off around it, and the rows and references survive."""
    db = project / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executescript("PRAGMA foreign_keys=ON; CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT);"
                           "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);"
                           "INSERT INTO p VALUES (1, 'x'); INSERT INTO c VALUES (1, 1);")
    desired = project / "desired.sql"
    desired.write_text("CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT '');\n"
                       "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);\n")
    code, plan, err = run("diff", str(db), str(desired))
    assert code == 2, err
    assert "PRAGMA foreign_keys=OFF" in plan and "BEGIN;" in plan
    (project / "migrations" / "0001_rebuild.sql").write_text(f"-- schemashift:up\n{plan}\n-- schemashift:down\n")
    assert run("hash")[0] == 0
    code, _, err = run("up", "--url", str(db))
    assert code == 0, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT * FROM p").fetchall() == [(1, "x")]
        assert conn.execute("SELECT * FROM c").fetchall() == [(1, 1)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert run("diff", str(db), str(desired))[0] == 0


def test_concurrent_deployers_apply_each_migration_once(project: Path) -> None:
    db = project / "app.db"
    folder = project / "migrations"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE ledger (version INTEGER PRIMARY KEY)")  # a second insert would fail
    for v in range(1, 6):
        (folder / f"000{v}_step.sql").write_text(
            f"-- schemashift:up\nCREATE TABLE t{v} (id INTEGER);\nINSERT INTO ledger VALUES ({v});\n"
            f"-- schemashift:down\nDELETE FROM ledger WHERE version = {v};\nDROP TABLE t{v};\n")
    assert run("hash")[0] == 0
    procs = [subprocess.Popen([sys.executable, "-m", "schemashift", "up", "--url", f"sqlite:///{db}"],
                              cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={"PATH": "/usr/bin:/bin", "SCHEMASHIFT_SERVER_IDLE": "0",
                                   "PYTHONPATH": ":".join(sys.path)})
             for _ in range(8)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0] * 8, results
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM ledger ORDER BY version").fetchall() == [(v,) for v in range(1, 6)]
        assert conn.execute("SELECT version, count(*) FROM schemashift_history WHERE action = 'up' "
                            "GROUP BY version").fetchall() == [(v, 1) for v in range(1, 6)]


def test_bad_input_is_one_line(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE a (id int);\nCREATE TABEL b (id int);\n")
    assert one_line_error(*run("diff", "empty", str(bad))[::2]) == f'schemashift: {bad}:2: near "TABEL": syntax error'
    assert "no such SQLite database file" in one_line_error(*run("diff", str(tmp_path / "gone.db"), "empty")[::2])
    assert "cannot mix dialects" in one_line_error(*run("diff", str(project / "app.db"),
                                                         "postgresql://u@127.0.0.1:1/x")[::2])
    assert "no such SQLite database file" in one_line_error(*run("up", "--url", f"sqlite:///{tmp_path}/gone.db")[::2])
    assert "unknown dialect" in one_line_error(*run("diff", "empty", str(bad), "--dialect", "oracle")[::2])
    assert not (tmp_path / "gone.db").exists()


def test_offline_sql_runs_in_the_sqlite3_shell_like_up(project: Path) -> None:
    """`up --sql` piped into `sqlite3 -bail` builds what `up` builds, history included; `--backup`
    copies the file before anything runs."""
    folder = project / "migrations"
    (folder / "0001_start.sql").write_text("-- schemashift:up\nBEGIN;\nCREATE TABLE \"it's\" (id INTEGER PRIMARY KEY);\n"
                                           "COMMIT;\n-- schemashift:down\nDROP TABLE \"it's\";\n")
    assert run("hash")[0] == 0
    code, script, err = run("up", "--sql")
    assert code == 0, err
    offline = project / "offline.db"
    subprocess.run(["sqlite3", "-bail", str(offline)], input=script, text=True, check=True)
    online = project / "app.db"
    assert run("up", "--url", str(online), "--backup", str(project / "before.db"))[0] == 0
    assert tables(offline) == tables(online) == ["it's", "schemashift_history"]
    assert history(offline) == history(online) == [(1, "up", 1)]
    assert tables(project / "before.db") == ["schemashift_history"]  # taken under the lock, before any migration


def test_python_migrations_run_in_the_migration_transaction(project: Path) -> None:
    db = project / "app.db"
    folder = project / "migrations"
    (folder / "0001_seed.py").write_text("def up(conn):\n    conn.execute('CREATE TABLE s (v INTEGER)')\n"
                                         "    conn.execute('INSERT INTO s VALUES (1)')\n    raise ValueError('no')\n\n"
                                         "def down(conn):\n    conn.execute('DROP TABLE s')\n")
    assert run("hash")[0] == 0
    line = one_line_error(*run("up", "--url", str(db))[::2])
    assert "0001_seed.py:4: up(): ValueError: no" in line
    assert tables(db) == ["schemashift_history"] and history(db) == [(1, "up", 0)]
    (folder / "0001_seed.py").write_text((folder / "0001_seed.py").read_text().replace("    raise ValueError('no')\n", ""))
    assert run("hash")[0] == 0
    assert run("up", "--url", str(db))[0] == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT v FROM s").fetchall() == [(1,)]
