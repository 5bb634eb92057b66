"""`schemashift lint` and the lint of `up`: every rule fires on its unsafe case in tests/lint_cases/
and not on its safe variant; ignore comments; version-awareness; output, JSON shape and exit codes;
migrations linted at their lines and as the runner runs them; `up --strict` refusing, untouched.

All in this process (click's CliRunner or the functions); one throwaway server for `up`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from schemashift.dialects.postgres import servers
from schemashift.cli import cli
from schemashift.dialects.postgres.lint import RULES, lint_text
from schemashift.migrations import checksum
from schemashift.migrations.files import read_folder

CASES = Path(__file__).with_name("lint_cases")
CASE_VERSION = re.compile(r"^-- case: pg-version (\d+)$", re.MULTILINE)
DEFAULT_VERSION = 18


def rules_of(text: str, version: int = DEFAULT_VERSION, **kwargs: object) -> set[str]:
    return {f.rule.name for f in lint_text(text, version, **kwargs)}  # type: ignore[arg-type]


def case_rules(path: Path) -> set[str]:
    text = path.read_text()
    match = CASE_VERSION.search(text)
    return rules_of(text, int(match[1]) if match else DEFAULT_VERSION)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_fires_on_its_unsafe_case_only(rule: str) -> None:
    assert rule in case_rules(CASES / f"{rule}.sql")
    assert rule not in case_rules(CASES / f"{rule}.safe.sql")


def test_safe_cases_have_no_error() -> None:
    for path in sorted(CASES.glob("*.safe.sql")):
        errors = {r for r in case_rules(path) if RULES[r].level.value == "error"}
        assert not errors, (path.name, errors)


def test_tables_created_in_the_file_are_exempt() -> None:
    text = """
        SET lock_timeout = '1s'; SET statement_timeout = '1min';
        CREATE TABLE t (id bigint, a bigint, b text);
        CREATE INDEX t_a ON t (a);
        ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES u (id);
        ALTER TABLE t ALTER COLUMN a SET NOT NULL, ADD COLUMN c bigint NOT NULL, ADD PRIMARY KEY (id);
        ALTER TABLE t ALTER COLUMN b TYPE bigint USING b::bigint;
        DROP TABLE t;
    """
    assert rules_of(text) == set()
    assert {"index-without-concurrently", "drop-table"} <= rules_of(text.replace("CREATE TABLE t", "CREATE TABLE x"))


def test_lock_timeout_is_wanted_where_a_live_table_is_locked() -> None:
    timeouts = {"missing-lock-timeout", "missing-statement-timeout"}
    assert rules_of("CREATE TABLE t (id bigint); CREATE INDEX t_id ON t (id); CREATE FUNCTION f() RETURNS int "
                    "LANGUAGE sql AS 'SELECT 1';") == set()
    assert rules_of("CREATE TABLE t (id bigint, u_id bigint REFERENCES u (id));") == timeouts  # locks u
    assert rules_of("CREATE TABLE t_2020 PARTITION OF t FOR VALUES IN (2020);") == timeouts  # locks t
    assert rules_of("CREATE TABLE u (id bigint PRIMARY KEY); CREATE TABLE t (u_id bigint REFERENCES u);") == set()


def test_statement_ignore_comments() -> None:
    above = "-- schemashift:ignore drop-column, drop-table\nALTER TABLE t DROP COLUMN a;\nDROP TABLE u;"
    assert rules_of(above) == {"drop-table", "missing-lock-timeout", "missing-statement-timeout"}
    trailing = "ALTER TABLE t DROP COLUMN a; -- schemashift:ignore drop-column\nALTER TABLE u DROP COLUMN b;"
    assert [f.line for f in lint_text(trailing, 18) if f.rule.name == "drop-column"] == [2]
    inside = "ALTER TABLE t\n  -- schemashift:ignore drop-column\n  DROP COLUMN a;"
    assert "drop-column" not in rules_of(inside)


def test_file_ignore_comment() -> None:
    text = "ALTER TABLE t DROP COLUMN a;\nALTER TABLE u DROP COLUMN b;\n-- schemashift:ignore-file drop-column,missing-lock-timeout"
    assert rules_of(text) == {"missing-statement-timeout"}


def test_add_column_default_volatility() -> None:
    """Non-volatile defaults are stored once (instant since 11, so on every supported server)."""
    for version in (15, 16, 17, 18):
        assert rules_of("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();", version) == \
            {"missing-lock-timeout", "missing-statement-timeout"}
        assert rules_of("ALTER TABLE t ADD COLUMN c bigint NOT NULL DEFAULT 0;", version) == \
            {"missing-lock-timeout", "missing-statement-timeout"}
        assert "add-column-rewrites" in rules_of("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();",
                                                 version)


def test_version_awareness() -> None:
    virtual = "SET lock_timeout = 1; SET statement_timeout = 1; ALTER TABLE t ADD COLUMN d bigint GENERATED ALWAYS AS (a * 2);"
    assert rules_of(virtual, 18) == set()  # virtual since 18: instant
    assert rules_of(virtual, 17) == {"needs-newer-server"}
    assert rules_of(virtual.replace("2)", "2) STORED"), 18) == {"add-column-rewrites"}
    not_valid = "SET lock_timeout = 1; SET statement_timeout = 1; ALTER TABLE t ADD CONSTRAINT n NOT NULL a NOT VALID;"
    assert rules_of(not_valid, 18) == set() and rules_of(not_valid, 15) == {"needs-newer-server"}
    [on_18] = [f.message for f in lint_text("ALTER TABLE t ALTER a SET NOT NULL;", 18) if f.rule.name == "set-not-null-scans"]
    [on_17] = [f.message for f in lint_text("ALTER TABLE t ALTER a SET NOT NULL;", 17) if f.rule.name == "set-not-null-scans"]
    assert "NOT VALID" in on_18 and "NOT VALID" not in on_17


def test_text_output_and_exit_codes(tmp_path: Path) -> None:
    unsafe = CASES / "index-without-concurrently.sql"
    code, out, _ = run("lint", "--pg-version", "18", str(unsafe))
    assert code == 1
    assert out.splitlines() == [f"{unsafe}:3:37: error index-without-concurrently: "
                                + RULES["index-without-concurrently"].message]
    code, out, err = run("lint", "--pg-version", "18", str(CASES / "prefer-bigint.sql"))
    assert code == 0 and "warning prefer-bigint" in out and "0 error(s), 2 warning(s)" in err
    assert run("lint", "--pg-version", "18", str(CASES / "index-without-concurrently.safe.sql"))[:2] == (0, "")


def test_rules_list_and_usage() -> None:
    code, out, _ = run("lint", "--rules")
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == list(RULES)
    code, out, err = run("lint")
    assert code == 1 and out == "" and "name at least one FILE or migrations:DIR" in err


def test_json_output(tmp_path: Path) -> None:
    code, out, _ = run("lint", "--pg-version", "17", "--format", "json", str(CASES / "constraint-without-not-valid.sql"))
    assert code == 1
    document = json.loads(out)
    assert document["pg_version"] == 17 and document["errors"] == 2 and document["warnings"] == 0
    first = document["findings"][0]
    assert set(first) == {"file", "line", "column", "level", "rule", "message", "advice"}
    assert (first["line"], first["column"], first["level"], first["rule"]) == (3, 24, "error", "constraint-without-not-valid")


@pytest.mark.parametrize("content, expected", [
    (None, "no such file"),
    (b"\xff\xfeCREATE", "not UTF-8 text"),
    (b"SELECT 1;\nCREATE TABL x;", ":2: syntax error at or near"),
])
def test_bad_input_is_one_line(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "in.sql"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run("lint", "--pg-version", "18", str(path))
    assert code == 1 and out == "" and "Traceback" not in err
    [line] = err.splitlines()
    assert line.startswith("schemashift: ") and expected in line


def write_migration(folder: Path, name: str, up: str, header: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"-- {name}\n{header}\n-- schemashift:up\n{up}\n-- schemashift:down\n")
    checksum.write(folder, read_folder(folder))
    return path


def test_migrations_are_linted_at_their_lines_as_the_runner_runs_them(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    first = write_migration(folder, "0001_orders.sql", "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\n"
                            "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0) NOT VALID;\n"
                            "ALTER TABLE orders VALIDATE CONSTRAINT c;\n"
                            "CREATE INDEX CONCURRENTLY orders_total ON orders (total);")
    write_migration(folder, "0002_note.sql", "BEGIN;\nALTER TABLE orders DROP COLUMN note;\nCOMMIT;",
                    header="-- schemashift:ignore-file missing-lock-timeout, missing-statement-timeout")
    code, out, _ = run("lint", "--pg-version", "18", f"migrations:{folder}")
    assert code == 1
    lines = [": ".join(line.split(": ")[:2]) for line in out.splitlines()]
    # one transaction: VALIDATE after ADD ... NOT VALID is refused; CONCURRENTLY runs alone: fine
    assert lines == [f"{first}:7:1: error validate-in-same-transaction",
                     f"{folder / '0002_note.sql'}:4:1: error transaction-nesting",
                     f"{folder / '0002_note.sql'}:5:1: error drop-column",
                     f"{folder / '0002_note.sql'}:6:1: error transaction-nesting"]


@pytest.fixture(scope="module")
def server() -> servers.Server:
    return servers.get_server()


@pytest.fixture
def url(server: servers.Server) -> Iterator[str]:
    with server.scratch_database() as database_url:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total bigint)")
        yield database_url


def tables(url: str) -> list[tuple[str, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2").fetchall()


def test_up_strict_refuses_an_error_finding_and_changes_nothing(tmp_path: Path, url: str) -> None:
    folder = tmp_path / "migrations"
    write_migration(folder, "0001_safe.sql", "CREATE TABLE customers (id bigint PRIMARY KEY);")
    write_migration(folder, "0002_index.sql", "CREATE INDEX orders_total ON orders (total);")
    before = tables(url)
    common = ("--url", url, "--migrations", str(folder), "--history-table", "public.schemashift_history")
    code, out, err = run("up", "--strict", *common)
    assert code == 1
    assert out.splitlines() == [f"{folder / '0002_index.sql'}:4:30: error index-without-concurrently: "
                                + RULES["index-without-concurrently"].message]  # warnings: `lint`'s to show
    [line] = err.splitlines()
    assert line.startswith("schemashift: 1 error-level lint finding(s) in pending migrations; nothing applied")
    # nothing ran, not even the first, safe migration; `up` only made its (empty) history table
    assert tables(url) == sorted(before + [("public", "schemashift_history")])
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM public.schemashift_history").fetchone() == (0,)

    code, out, err = run("up", *common)  # without --strict: printed, then applied
    assert code == 0 and "error index-without-concurrently" in out.splitlines()[0]
    assert "applied 0002_index.sql" in out
    assert ("public", "customers") in tables(url)


def test_version_from_the_dev_server(any_pg) -> None:
    """A virtual generated column: instant on 18, refused by 15 (the session's servers, `any_pg`)."""
    code, out, _ = run("lint", "--dev-url", any_pg.server.admin_url, "--format", "json",
                       str(CASES / "needs-newer-server.sql"))
    document = json.loads(out)
    assert document["pg_version"] == any_pg.major
    expected = (0, []) if any_pg.major >= 18 else (1, ["needs-newer-server"])
    assert (code, [f["rule"] for f in document["findings"]]) == expected


def test_up_strict_on_another_engine_is_refused_before_anything_runs(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write_migration(folder, "0001_t.sql", "CREATE TABLE t (id integer);")
    database = tmp_path / "app.db"
    code, out, err = run("up", "--strict", "--url", f"sqlite:///{database}", "--migrations", str(folder))
    assert code == 1 and out == "" and not database.exists()
    assert err.splitlines() == ["schemashift: up --strict: the linter reads PostgreSQL migrations, not sqlite"]
