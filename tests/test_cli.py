"""The `diff` command and the CLI's error contract: one line on stderr, our exit codes, no password.

Most runs are in-process through click's CliRunner (fast); a few run the installed console script to
check what a user's shell really sees.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from schemashift import api
from schemashift.cli import cli
from schemashift.dialects.postgres.servers import get_server, url_with_database

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BEFORE, AFTER = str(EXAMPLES / "before.sql"), str(EXAMPLES / "after.sql")
CONSOLE_SCRIPT = Path(sys.executable).with_name("schemashift")
PASSWORD = "s3cret-pw"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result: Result, *, contains: str = "") -> None:
    """Exit 1, nothing on stdout, exactly one `schemashift: ...` line on stderr, no traceback or password."""
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("schemashift: ")
    assert contains in lines[0]
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- bad input: one line, exit 1 ------------------------------------------------------------------


def test_unknown_option_exits_1_not_clicks_2():
    assert_one_line_error(run("diff", "--bogus", BEFORE, AFTER), contains="No such option '--bogus'")


def test_missing_argument():
    assert_one_line_error(run("diff", BEFORE), contains="Missing argument 'TARGET'")


def test_bad_format_value():
    assert_one_line_error(run("diff", BEFORE, AFTER, "--format", "xml"), contains="'--format'")


def test_unreachable_url_hides_the_password():
    url = f"postgresql://deployer:{PASSWORD}@127.0.0.1:1/app"
    assert_one_line_error(run("diff", url, BEFORE), contains="cannot connect to postgresql://deployer:***@127.0.0.1:1/app")


def test_wrong_database_name_hides_the_password():
    server = get_server()
    url = url_with_database(server.admin_url, "no_such_database").replace("postgres@", f"postgres:{PASSWORD}@")
    assert_one_line_error(run("diff", url, BEFORE), contains='database "no_such_database" does not exist')


def test_malformed_sql_file_names_file_and_line(tmp_path):
    bad = write(tmp_path / "bad.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int REFRENCES a);\n")
    assert_one_line_error(run("diff", bad, BEFORE), contains=f'{bad}:2: syntax error at or near "REFRENCES"')


def test_missing_file(tmp_path):
    missing = str(tmp_path / "missing.sql")
    assert_one_line_error(run("diff", BEFORE, missing), contains=f"{missing}: no such file or folder")


def test_file_that_is_not_sql(tmp_path):
    notes = write(tmp_path / "notes.txt", "hello\n")
    assert_one_line_error(run("diff", notes, BEFORE), contains="not a .sql file")


def test_pg_bin_without_postgres(tmp_path):
    assert_one_line_error(run("diff", BEFORE, AFTER, "--pg-bin", str(tmp_path)), contains="no PostgreSQL binaries")


def test_unexpected_exception_is_one_line_and_redacted(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"boom at postgresql://u:{PASSWORD}@db/app")

    monkeypatch.setattr(api, "diff", broken)
    result = run("diff", BEFORE, AFTER)
    assert_one_line_error(result, contains="internal error: RuntimeError: boom at postgresql://u:***@db/app")
    assert result.stderr.rstrip().endswith("(rerun with --traceback)")


def test_traceback_flag_shows_the_traceback(tmp_path):
    missing = str(tmp_path / "missing.sql")
    result = run("diff", "--traceback", BEFORE, missing)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("schemashift: ")


# --- diffs ----------------------------------------------------------------------------------------


def test_same_schema_exits_0_and_prints_nothing():
    result = run("diff", BEFORE, BEFORE)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_differences_exit_2_with_statements():
    result = run("diff", BEFORE, AFTER)
    assert result.exit_code == 2, result.stderr
    assert "published" in result.stdout and "book_author_id_idx" in result.stdout and "recent_book" in result.stdout
    assert result.stdout.rstrip().endswith(";")


def test_printed_statements_turn_source_into_target(tmp_path):
    first = run("diff", BEFORE, AFTER).stdout
    patched = write(tmp_path / "patched.sql", Path(BEFORE).read_text() + "\n" + first)
    result = run("diff", patched, AFTER)
    assert (result.exit_code, result.stdout) == (0, "")


def test_destructive_changes_are_refused_without_unsafe():
    result = run("diff", AFTER, BEFORE)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "--unsafe" in result.stderr and "published" in result.stderr


def test_unsafe_prints_destructive_changes():
    result = run("diff", "--unsafe", AFTER, BEFORE)
    assert result.exit_code == 2, result.stderr
    assert "DROP" in result.stdout.upper()


def test_json_lists_statements_with_object_kind_and_destructive_flag():
    result = run("diff", "--format", "json", "--unsafe", AFTER, BEFORE)
    assert result.exit_code == 2, result.stderr
    statements = json.loads(result.stdout)["statements"]
    assert statements
    assert all({"sql", "object", "change", "destructive"} <= set(s) for s in statements)
    assert any(s["destructive"] for s in statements)


def test_schema_filters(tmp_path):
    a = write(tmp_path / "a.sql", "CREATE SCHEMA app;\nCREATE SCHEMA audit;\n")
    b = write(tmp_path / "b.sql", "CREATE SCHEMA app;\nCREATE SCHEMA audit;\nCREATE TABLE app.t (id int);\nCREATE TABLE audit.log (id int);\n")
    only_app = run("diff", a, b, "--schema", "app")
    assert only_app.exit_code == 2, only_app.stderr
    assert '"app"."t"' in only_app.stdout and "audit" not in only_app.stdout
    without_app = run("diff", a, b, "--exclude-schema", "app")
    assert without_app.exit_code == 2, without_app.stderr
    assert '"audit"."log"' in without_app.stdout and '"app"' not in without_app.stdout


# --- the real console script ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def console() -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """The console script with a user's environment, except for a cache folder of its own: the kept
    server and warm process it starts are stopped afterwards, not left in the user's cache."""
    cache = Path(tempfile.mkdtemp(prefix="ss-console-cache-"))
    cache.chmod(0o755)  # a kept server, run as nobody under root, must be able to enter it
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMASHIFT_")} | {"XDG_CACHE_HOME": str(cache)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)

    yield run
    run("server", "stop")
    shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed beside this Python")
def test_console_script_unknown_option(console):
    proc = console("diff", "--nope", BEFORE, AFTER)
    assert proc.returncode == 1
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed beside this Python")
def test_console_script_malformed_file_on_a_fresh_server(console, tmp_path):
    bad = write(tmp_path / "bad.sql", "CREATE TABLE a (id int);\n\nCREAT TABLE b ();\n")
    proc = console("diff", bad, BEFORE)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f'schemashift: {bad}:3: syntax error at or near "CREAT"']


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed beside this Python")
def test_console_script_diffs_the_examples(console):
    proc = console("diff", BEFORE, AFTER)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ""
    assert "published" in proc.stdout


def test_ctrl_c_while_a_lock_blocks_the_inspection(pg18):
    """Ctrl-C stops a `dump` whose catalog query waits behind another session's lock (printing a
    CHECK opens its table): the query is cancelled on the server, not waited for, and nothing stays."""
    name = pg18.load("CREATE TABLE t (a int CHECK (a > 0)); CREATE INDEX ON t ((a + 1));")
    url = pg18.url(name)
    env = {**os.environ, "SCHEMASHIFT_SERVER_IDLE": "0"}
    try:
        with psycopg.connect(url) as locker, psycopg.connect(url, autocommit=True) as watcher:
            locker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            proc = subprocess.Popen([sys.executable, "-m", "schemashift", "dump", url], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
            deadline = time.monotonic() + 60
            while watcher.execute(waiting, [name]).fetchone() != (1,):
                assert proc.poll() is None and time.monotonic() < deadline, "dump never waited on the lock"
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=30)  # before the fix: a hang until the lock went
            finally:
                proc.kill()
        assert (proc.returncode, out, err) == (1, "", "\nschemashift: aborted\n")  # click ends the ^C line first
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                                "pg_backend_pid() AND state <> 'idle'", [name]).fetchone() == (0,)
    finally:
        pg18.drop(name)
