"""The folder side, no database: file sections, the sum, statement splitting, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemashift.config import load_settings
from schemashift.errors import SchemashiftError
from schemashift.migrations import checksum
from schemashift.migrations.errors import FolderError, SumMismatch
from schemashift.migrations.files import read_folder
from schemashift.dialects.postgres.steps import steps


def _steps(folder, body: str, server_version: int = 180000, header: str = ""):
    file = folder.add("0001_x.sql", body, "SELECT 1;", header=header)
    migration = read_folder(folder.path)[0]
    return [(s.transactional, [st.sql for st in s.statements]) for s in
            steps(migration.section("up"), str(file), server_version)]


def test_plain_file_is_one_transaction(folder):
    assert _steps(folder, "CREATE TABLE t (a int);\nCREATE INDEX ON t (a);") == [
        (True, ["CREATE TABLE t (a int)", "CREATE INDEX ON t (a)"])
    ]


def test_concurrent_statements_run_alone_in_order(folder):
    body = """
        CREATE TABLE t (a int);
        CREATE INDEX CONCURRENTLY i ON t (a);
        REINDEX INDEX CONCURRENTLY i;
        COMMENT ON TABLE t IS 'x';
        DROP INDEX CONCURRENTLY i;
        VACUUM t;
        ANALYZE t;
    """
    assert [t for t, _ in _steps(folder, body)] == [True, False, False, True, False, False, True]


def test_add_value_splits_only_when_the_label_is_used_later(folder):
    used = "ALTER TYPE mood ADD VALUE 'ok';\nCREATE TABLE t (m mood DEFAULT 'ok');"
    assert [len(s) for _, s in _steps(folder, used)] == [1, 1]
    unused = "ALTER TYPE mood ADD VALUE 'ok';\nCREATE TABLE t (m mood);"
    assert [len(s) for _, s in _steps(folder, unused)] == [2]
    in_body = "ALTER TYPE mood ADD VALUE 'ok';\nCREATE FUNCTION f() RETURNS mood LANGUAGE sql AS $$ SELECT 'ok'::mood $$;"
    assert [len(s) for _, s in _steps(folder, in_body)] == [1, 1]
    assert _steps(folder, unused, server_version=110000)[0][0] is False


def test_no_transaction_marker_runs_every_statement_alone(folder):
    body = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);"
    assert _steps(folder, body, header="-- schemashift:no-transaction") == [
        (False, ["CREATE TABLE t (a int)"]), (False, ["INSERT INTO t VALUES (1)"])
    ]


def test_transaction_control_and_syntax_errors_name_file_and_line(folder):
    with pytest.raises(FolderError, match=r"0001_x.sql:4: `COMMIT`"):
        _steps(folder, "CREATE TABLE t (a int);\nCOMMIT;")
    with pytest.raises(FolderError, match=r"0001_x.sql:4: syntax error"):
        _steps(folder, "CREATE TABLE t (a int);\nCREATE TABLEX u ();")


def test_bad_names_and_sections_are_refused(folder):
    (folder.path / "1-oops.sql").write_text("-- schemashift:up\n")
    with pytest.raises(FolderError, match="1-oops.sql: not a migration name"):
        read_folder(folder.path)
    (folder.path / "1-oops.sql").unlink()
    folder.add("0001_a.sql", "SELECT 1;")
    (folder.path / "0001_b.sql").write_text("-- schemashift:up\n")
    with pytest.raises(FolderError, match="version 1 is also 0001_a.sql"):
        read_folder(folder.path)
    (folder.path / "0001_b.sql").unlink()
    (folder.path / "0002_c.sql").write_text("SELECT 1;\n-- schemashift:up\n")
    with pytest.raises(FolderError, match="0002_c.sql:1: SQL before"):
        read_folder(folder.path)[1].section("up")


def test_sum_names_the_file_that_differs(folder):
    first = folder.add("0001_a.sql", "SELECT 1;")
    folder.add("0002_b.sql", "SELECT 2;")
    checksum.verify(folder.path, read_folder(folder.path))

    first.write_text(first.read_text() + "\n")
    with pytest.raises(SumMismatch, match="0001_a.sql: changed since"):
        checksum.verify(folder.path, read_folder(folder.path))
    folder.rehash()

    (folder.path / "0003_c.sql").write_text("-- schemashift:up\n")
    with pytest.raises(SumMismatch, match="0003_c.sql: not in schemashift.sum"):
        checksum.verify(folder.path, read_folder(folder.path))
    (folder.path / "0003_c.sql").unlink()

    (folder.path / "0002_b.sql").unlink()
    with pytest.raises(SumMismatch, match="0002_b.sql: listed in schemashift.sum but missing"):
        checksum.verify(folder.path, read_folder(folder.path))

    (folder.path / "schemashift.sum").write_text("garbage\n")
    with pytest.raises(SumMismatch, match="schemashift.sum:1: malformed"):
        checksum.verify(folder.path, read_folder(folder.path))


def test_two_branches_adding_a_migration_touch_the_same_sum_lines(folder):
    folder.add("0001_a.sql", "SELECT 1;")
    base = checksum.render(read_folder(folder.path)).splitlines()
    folder.add("0002_mine.sql", "SELECT 2;")
    mine = checksum.render(read_folder(folder.path)).splitlines()
    (folder.path / "0002_mine.sql").unlink()
    folder.add("0002_theirs.sql", "SELECT 3;")
    theirs = checksum.render(read_folder(folder.path)).splitlines()
    # Both rewrite line 1 and append line 3 differently: git cannot merge them silently.
    assert mine[0] != base[0] != theirs[0] != mine[0]
    assert mine[1] == theirs[1] == base[1] and mine[2] != theirs[2]


def test_settings_precedence(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.schemashift]\nurl = "postgres://file/db"\nmigrations = "db/migrations"\nlock-timeout = 5\n'
    )
    (tmp_path / "sub").mkdir()
    from_file = load_settings({}, env={}, cwd=tmp_path / "sub")
    assert from_file.url == "postgresql://file/db"
    assert from_file.migrations == tmp_path / "db/migrations" and from_file.lock_timeout == 5
    env = {"DATABASE_URL": "postgres://env/db", "SCHEMASHIFT_HISTORY_TABLE": "app.history"}
    from_env = load_settings({}, env=env, cwd=tmp_path)
    assert (from_env.url, from_env.history_table) == ("postgresql://env/db", "app.history")
    assert load_settings({"url": "postgresql://flag/db"}, env=env, cwd=tmp_path).url == "postgresql://flag/db"
    (tmp_path / "schemashift.toml").write_text('lock_timeout = "soon"\n')
    with pytest.raises(SchemashiftError, match="lock_timeout must be a number"):
        load_settings({}, env={}, cwd=tmp_path)
