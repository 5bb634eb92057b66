"""Long work says what runs now and for how long: a live spinner on a terminal, a heartbeat line
when piped; for a migration being applied and for a .sql file being loaded."""

from __future__ import annotations

import io
import re
import time

import pytest
from migration_helpers import cli_run

from schemashift.migrations import progress
from schemashift.migrations.progress import Progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def fast_heartbeat(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.1)


def test_piped_long_work_prints_a_heartbeat_until_it_ends(fast_heartbeat):
    out = io.StringIO()
    shown = Progress(out)

    shown.start("applying 0001_big.sql")
    time.sleep(0.35)
    shown.finished("applied 0001_big.sql", 350)
    time.sleep(0.25)

    *beats, last = out.getvalue().splitlines()
    assert last == "applied 0001_big.sql (350 ms)"  # and nothing after it
    assert len(beats) >= 2
    assert all(re.fullmatch(r"still applying 0001_big\.sql \(0\.\d s\)", beat) for beat in beats), beats


def test_a_terminal_shows_what_runs_and_its_running_time():
    out = Terminal()
    shown = Progress(out)

    shown.start("applying 0001_big.sql")
    time.sleep(0.5)
    shown.stop()

    frames = ANSI.sub("", out.getvalue())
    times = [float(t) for t in re.findall(r"applying 0001_big\.sql \.\.\. (\d+\.\d) s", frames)]
    assert times and times[-1] >= 0.3 and times == sorted(times)


def test_a_long_migration_applied_through_a_pipe_reports_its_running_time(fast_heartbeat, folder, url):
    folder.add("0001_slow.sql", "CREATE TABLE t (id int);\nSELECT pg_sleep(0.5);", "DROP TABLE t;")

    result = cli_run("up", "--url", url, "--migrations", str(folder.path))

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert re.fullmatch(r"applied 0001_slow\.sql \(\d+ ms\)", lines[-1])
    assert lines[0].startswith("still applying 0001_slow.sql (0.")


def test_a_slow_migration_at_the_end_of_a_pipelined_batch_is_named(fast_heartbeat, folder, url):
    for k in (1, 2, 3):
        folder.add(f"000{k}_quick.sql", f"CREATE TABLE t{k} (id int);", f"DROP TABLE t{k};")
    folder.add("0004_slow.sql", "SELECT pg_sleep(0.5);", "SELECT 1;")

    result = cli_run("up", "--url", url, "--migrations", str(folder.path))

    assert result.code == 0, result.err
    beats = [line for line in result.out.splitlines() if line.startswith("still ")]
    assert beats and all("0004_slow.sql" in beat for beat in beats), result.out  # not the batch's first


def test_a_long_sql_file_load_reports_its_running_time(fast_heartbeat, tmp_path):
    slow = tmp_path / "slow.sql"
    slow.write_text("CREATE TABLE t (id int);\nSELECT pg_sleep(0.5);\n")
    (tmp_path / "same.sql").write_text("CREATE TABLE t (id int);\n")

    result = cli_run("diff", str(slow), str(tmp_path / "same.sql"))

    assert result.code == 0, result.err
    assert result.out == ""
    assert result.err.startswith(f"still loading {slow} (0.")
