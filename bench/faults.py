"""The fault suite at scale, in one run: `kill -9` of `schemashift up` at ≥ 200 random points, the
server stopped with `pg_ctl stop -m immediate` mid-run, the connection cut by a TCP proxy, 8
concurrent deployers on PostgreSQL 15 and 18, every command × bad input of tests/bad_inputs.py plus
generated calls, all with URLs holding a recognisable password. Prints the table the README's
"Reliability" section shows and writes it to bench/results/faults.txt.

    .venv/bin/python bench/faults.py [--kills 200] [--others 20] [--generated 300] [--seed 16]

The injectors and the verdicts are the test suite's own (tests/faults.py, tests/bad_inputs.py).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
os.environ["SCHEMASHIFT_SERVER_IDLE"] = "0"  # no kept server or warm process outlives the run
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="ss-faults-cache-")

import oracle  # noqa: E402

oracle.prefer_tmpfs()

import bad_inputs  # noqa: E402
import faults  # noqa: E402
from schemashift.dialects.postgres.servers import embedded_bin_dir  # noqa: E402

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
MIGRATIONS = 8


def fault_rows(args: argparse.Namespace, folder: Path) -> list[tuple[str, faults.Tally, float]]:
    rng = random.Random(args.seed)
    rows = []
    server = faults.FaultServer(embedded_bin_dir())
    try:
        target = faults.Target.make(server, folder)
        span = faults.median_up_seconds(target)
        for label, runs, inject in (
            (f"kill -9 of `up` (PostgreSQL {server.major_version})", args.kills, lambda: faults.kill_9(target, rng, span)),
            ("pg_ctl stop -m immediate mid-run", args.others, lambda: faults.server_stop(target, rng)),
            ("connection cut by a TCP proxy", args.others, lambda: faults.connection_cut(target, rng)),
            (f"8 concurrent deployers (PostgreSQL {server.major_version})", args.others,
             lambda: faults.concurrent(target, 8)),
        ):
            rows.append(_repeat(label, runs, inject))
    finally:
        server.close()
    if (PG15_BIN / "postgres").exists():
        server = faults.FaultServer(PG15_BIN)
        try:
            target = faults.Target.make(server, folder)
            rows.append(_repeat(f"8 concurrent deployers (PostgreSQL {server.major_version})", args.others,
                                lambda: faults.concurrent(target, 8)))
        finally:
            server.close()
    return rows


def _repeat(label: str, runs: int, inject) -> tuple[str, faults.Tally, float]:
    tally = faults.Tally()
    started = time.monotonic()
    for _ in range(runs):
        tally.add(inject())
    elapsed = time.monotonic() - started
    print(f"  {label}: {tally.runs} runs in {elapsed:.1f}s", file=sys.stderr)
    return label, tally, elapsed


def bad_input_counts(args: argparse.Namespace) -> tuple[int, int, int, int, list[str]]:
    """(calls, tracebacks, other broken promises, passwords printed, notes) over the table and generated calls."""
    from hypothesis import HealthCheck, given, settings

    server = faults.FaultServer(embedded_bin_dir())
    calls = tracebacks = other = printed = 0
    notes: list[str] = []

    def count(what: str, problems: list[str]) -> None:
        nonlocal calls, tracebacks, other, printed
        calls += 1
        tracebacks += any("traceback" in p or "internal error" in p for p in problems)
        printed += any("password" in p for p in problems)
        other += any(not ("traceback" in p or "internal error" in p or "password" in p) for p in problems)
        if problems:
            notes.append(f"{what}: {problems}")

    try:
        with bad_inputs.Project.made(server, Path(tempfile.mkdtemp(prefix="ss-bad-input-"))) as project:
            for case in bad_inputs.cases(project):
                count(case.id, bad_inputs.run_case(project, case))

            @settings(max_examples=args.generated, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(bad_inputs.calls(project, "sandbox"))
            def generated(call: tuple[list[str], str | None]) -> None:
                count(" ".join(call[0]), bad_inputs.run_call(project, *call))

            generated()
    finally:
        server.close()
    return calls, tracebacks, other, printed, notes


def table(rows: list[tuple[str, faults.Tally, float]], bad: tuple[int, int, int, int, list[str]],
          seed: int) -> str:
    calls, tracebacks, other, printed, _ = bad
    lines = [f"schemashift fault suite, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, seed {seed}, "
             f"{MIGRATIONS} migrations of 7 to 8 statements each, a fresh database per run", "",
             "| fault | injected | migrations lost | applied twice | half-applied | not one line / resume failed |",
             "|---|---|---|---|---|---|"]
    for label, tally, _ in rows:
        lines.append(f"| {label} | {tally.runs} | {tally.lost} | {tally.twice} | {tally.half} | {tally.bad_exits} |")
    total = faults.Tally()
    for _, tally, _ in rows:
        total.add(tally)
    lines.append(f"| **all faults** | **{total.runs}** | **{total.lost}** | **{total.twice}** | **{total.half}** | "
                 f"**{total.bad_exits}** |")
    lines += ["", "| bad input | calls | tracebacks or internal errors | other broken promises (not one line, not exit 1, database changed) | passwords printed |",
              "|---|---|---|---|---|",
              f"| {len(bad_inputs.COMMANDS)} commands × bad inputs, then generated argv and config files | {calls} | "
              f"{tracebacks} | {other} | {printed} |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the servers' `finally` still runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--generated", type=int, default=300)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    started = time.monotonic()
    folder = faults.write_folder(Path(tempfile.mkdtemp(prefix="ss-faults-")) / "migrations", MIGRATIONS)
    rows = fault_rows(args, folder)
    bad = bad_input_counts(args)
    text = table(rows, bad, args.seed) + f"\n(took {time.monotonic() - started:.0f}s)\n"
    notes = [note for _, tally, _ in rows for note in tally.notes] + bad[4]
    if notes:
        text += "\nnotes:\n" + "\n".join(notes[:50]) + "\n"
    print(text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "faults.txt").write_text(text)


if __name__ == "__main__":
    main()
