"""Bad input across every command (see tests/bad_inputs.py): one line on stderr, exit 1, no traceback,
no password printed, the database as it was. A table of commands × bad inputs, a few of them as real
processes, and a property test over generated argv and config files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import bad_inputs
import faults
from schemashift.cli import cli
from schemashift.dialects.postgres.servers import embedded_bin_dir

KINDS = {"bad_url", "wrong_password", "missing_database", "server_down", "missing_path", "unreadable",
         "malformed_sql", "non_utf8", "unknown_version", "malformed_toml", "conflicting_options",
         "history_other_columns", "unknown_option"}

# One worker runs the module: its servers are started once.
pytestmark = pytest.mark.xdist_group("bad-input")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bad_inputs.Project]:
    server = faults.FaultServer(embedded_bin_dir())
    try:
        with bad_inputs.Project.made(server, tmp_path_factory.mktemp("bad-input")) as made:
            yield made
    finally:
        server.close()


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`server stop` and friends look at a cache of their own, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_every_command_and_every_bad_input_is_covered(project: bad_inputs.Project) -> None:
    cases = bad_inputs.cases(project)
    assert {case.command for case in cases} == set(bad_inputs.COMMANDS) == set(cli.commands)  # a new command needs cases
    assert {case.kind for case in cases} >= KINDS
    assert len({case.id for case in cases}) >= 130


def test_bad_input_is_one_line_exit_1_and_changes_nothing(project: bad_inputs.Project) -> None:
    failures = {case.id: problems for case in bad_inputs.cases(project)
                if (problems := bad_inputs.run_case(project, case))}
    assert failures == {}


@pytest.mark.parametrize("case_id", ["up-wrong_password", "status-history_other_columns", "diff-non_utf8",
                                     "up-malformed_toml", "server-unknown_subcommand"])
def test_bad_input_as_a_real_process(project: bad_inputs.Project, case_id: str, tmp_path: Path) -> None:
    case = next(case for case in bad_inputs.cases(project) if case.id == case_id)
    proc = subprocess.run([sys.executable, "-m", "schemashift", *case.argv], cwd=case.cwd, capture_output=True,
                          text=True, env=faults._clean_env() | {"XDG_CACHE_HOME": str(tmp_path)}, timeout=60)
    assert bad_inputs.Outcome(proc.returncode, proc.stdout, proc.stderr).problems() == []


def test_a_broken_promise_is_seen() -> None:
    """The verdict can fail: a traceback, two lines, a printed password, a changed database."""
    traceback = bad_inputs.Outcome(1, "", "Traceback (most recent call last):\n  ...\n")
    assert bad_inputs.judge_call(["up"], traceback, False)
    assert bad_inputs.Outcome(1, "", f"schemashift: no {bad_inputs.CANARY}\n").problems() == ["the password was printed"]
    assert bad_inputs.judge_call(["up"], bad_inputs.Outcome(1, "", "schemashift: x\n"), True) == ["the database changed"]
    assert bad_inputs.judge_call(["status"], bad_inputs.Outcome(1, "pending: 0003\n", ""), False) == []


@pytest.fixture(scope="module")
def generated_calls(project: bad_inputs.Project):
    return bad_inputs.calls(project, "sandbox")


def test_generated_calls_keep_the_promise(project: bad_inputs.Project, generated_calls) -> None:
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(generated_calls)
    def check(call: tuple[list[str], str | None]) -> None:
        argv, config = call
        assert bad_inputs.run_call(project, argv, config) == []

    check()
