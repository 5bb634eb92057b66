"""Session-wide servers for the tests: embedded PostgreSQL 18 and Debian's PostgreSQL 15.

`pg18` / `pg15` are `oracle.Cluster`s on the process's shared `schemashift.dialects.postgres.servers` servers, with the
corpus's roles and templates created once. PostgreSQL 15 is skipped when its binaries are absent,
except under CI (`CI=true`), where that is an error: CI installs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import oracle  # noqa: E402

pytest_plugins = ["pytester"]

oracle.prefer_tmpfs()  # before any server starts: scratch databases are ~20x cheaper on tmpfs
# The suite's servers are its own, stopped with it: never the user's kept server (test_kept_server
# sets this per process to test that one).
os.environ["SCHEMASHIFT_SERVER_IDLE"] = "0"

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist worker")


@pytest.fixture(scope="session")
def pg18() -> Iterator[oracle.Cluster]:
    from schemashift.dialects.postgres.servers import get_server

    cluster = corpus.prepare_cluster(get_server())
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def pg15_or_none() -> Iterator[oracle.Cluster | None]:
    """PostgreSQL 15 if installed; None outside CI when it is not; an error in CI when it is not."""
    if not (Path(corpus.PG15_BIN) / "postgres").exists():
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL 15 is not installed in {corpus.PG15_BIN}")
        yield None
        return
    from schemashift.dialects.postgres.servers import get_server

    cluster = corpus.prepare_cluster(get_server(pg_bin=corpus.PG15_BIN))
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def pg15(pg15_or_none: oracle.Cluster | None) -> oracle.Cluster:
    if pg15_or_none is None:
        pytest.skip(f"PostgreSQL 15 is not installed in {corpus.PG15_BIN} (CI installs it)")
    return pg15_or_none


@pytest.fixture(params=["pg18", "pg15"])
def any_pg(request: pytest.FixtureRequest) -> oracle.Cluster:
    """Each server in turn."""
    return request.getfixturevalue(request.param)


KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")


def _known_failures() -> dict[str, str]:
    """Test ids (as pytest prints them) that fail today, each with its reason; see the file's header."""
    known = {}
    for line in KNOWN_FAILURES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            test_id, _, reason = line.partition("  ")
            known[test_id.strip()] = reason.strip()
    return known


@pytest.hookimpl(tryfirst=True)  # before xdist's loadgroup appends "@group" to the ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Known differ failures stay visible as strict xfails: a case that starts passing fails the run
    until it is taken off the list, so the list can only shrink."""
    known = _known_failures()
    for item in items:
        reason = known.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


# Issue-level gate over every sqldef file: tallied from the per-case reports on the controlling
# process (so it works under xdist without re-running cases), judged when the session ends.
SQLDEF_OUTCOMES = {"pass": 0, "fail": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or "test_sqldef_case[" not in report.nodeid:
        return
    if hasattr(report, "wasxfail") or report.failed:
        SQLDEF_OUTCOMES["fail"] += 1
    elif report.passed:
        SQLDEF_OUTCOMES["pass"] += 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    passed, failed = SQLDEF_OUTCOMES["pass"], SQLDEF_OUTCOMES["fail"]
    if passed + failed:
        terminalreporter.write_line(f"sqldef, all files: {passed}/{passed + failed} cases that load pass "
                                    f"({passed / (passed + failed):.1%}; gate {corpus.SQLDEF_PASS_RATE:.0%} "
                                    "on a full run)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    passed, failed = SQLDEF_OUTCOMES["pass"], SQLDEF_OUTCOMES["fail"]
    full_run = passed + failed >= 700  # not a -k or single-file selection
    if full_run and passed < corpus.SQLDEF_PASS_RATE * (passed + failed) and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
