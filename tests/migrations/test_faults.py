"""The fault suite (see tests/faults.py): `kill -9` of `up` at random points, the server stopped with
`pg_ctl stop -m immediate` mid-run, the connection cut by a proxy, and 8 deployers at once, on real
servers over 127.0.0.1. bench/faults.py runs the same injectors hundreds of times."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import corpus
import faults
from schemashift.dialects.postgres.servers import embedded_bin_dir

PG15_BIN = Path(corpus.PG15_BIN)

KILL_RUNS = 20
OTHER_RUNS = 3
SEED = 16  # each test draws its points from its own seeded generator; the failing point is in the notes

# One worker runs the module: its servers are started once.
pytestmark = pytest.mark.xdist_group("faults")


@pytest.fixture(scope="module")
def fault_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return faults.write_folder(tmp_path_factory.mktemp("faults") / "migrations", 8)


def _target(bin_dir: Path, folder: Path) -> Iterator[faults.Target]:
    server = faults.FaultServer(bin_dir)
    try:
        yield faults.Target.make(server, folder)
    finally:
        server.close()


@pytest.fixture(scope="module")
def target18(fault_folder: Path) -> Iterator[faults.Target]:
    yield from _target(embedded_bin_dir(), fault_folder)


@pytest.fixture(scope="module")
def target15(fault_folder: Path) -> Iterator[faults.Target]:
    if not (PG15_BIN / "postgres").exists():
        pytest.skip(f"PostgreSQL 15 is not installed in {PG15_BIN}")
    yield from _target(PG15_BIN, fault_folder)


def _assert_clean(tally: faults.Tally, runs: int) -> None:
    assert tally.runs == runs
    assert (tally.lost, tally.twice, tally.half, tally.bad_exits) == (0, 0, 0, 0), tally.notes


def test_kill_9_at_random_points_then_up_applies_each_migration_once(target18: faults.Target) -> None:
    rng = random.Random(SEED)
    span = faults.median_up_seconds(target18)
    tally = faults.Tally()
    for _ in range(KILL_RUNS):
        tally.add(faults.kill_9(target18, rng, span))
    _assert_clean(tally, KILL_RUNS)


@pytest.mark.parametrize("inject", [faults.server_stop, faults.connection_cut], ids=["server_stop", "connection_cut"])
def test_broken_run_exits_1_with_one_line_and_the_next_up_resumes(target18: faults.Target, inject) -> None:
    rng = random.Random(SEED)
    tally = faults.Tally()
    for _ in range(OTHER_RUNS):
        tally.add(inject(target18, rng))
    _assert_clean(tally, OTHER_RUNS)


@pytest.mark.parametrize("version", ["18", "15"])
def test_eight_concurrent_deployers_apply_each_migration_once(version: str, request: pytest.FixtureRequest) -> None:
    target = request.getfixturevalue(f"target{version}")
    _assert_clean(faults.concurrent(target, 8), 1)


def test_the_judge_sees_a_half_applied_and_a_doubled_migration(target18: faults.Target) -> None:
    """The checks above can fail: a ledger row without its history row, and one applied twice."""
    with target18.server.fresh_database() as name:
        url = target18.server.url(name)
        assert faults.resume_up(url, target18.folder)[0] == 0
        assert faults.judge(target18, name, finished=True).clean
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO faults.ledger (version) VALUES (3)")
            assert faults.judge(target18, name, finished=True).twice == 1
            conn.execute("DELETE FROM faults.ledger WHERE version IN (3, 8)")
            tally = faults.judge(target18, name, finished=True)
            assert (tally.lost, tally.half) == (2, 1)
            conn.execute("INSERT INTO faults.ledger (version) VALUES (3), (8)")
            conn.execute('ALTER TABLE "t8" ADD COLUMN extra int')
            assert faults.judge(target18, name, finished=True).half == 1
