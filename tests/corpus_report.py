"""Run corpus cases through the oracle and print one line per case plus pass rates per file.

    python tests/corpus_report.py                       # all sqldef files on PostgreSQL 18
    python tests/corpus_report.py --file tests_tables --file tests_indices
    python tests/corpus_report.py --pg 15 --suite migra --suite chinook
    python tests/corpus_report.py --case tests_tables::DropTable -v   # the whole failure text

One server per run, one case at a time, in this process. Exit status 1 if any case failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import oracle  # noqa: E402

SUITES = {
    "sqldef": corpus.sqldef_cases,
    "migra": corpus.migra_cases,
    "chinook": corpus.chinook_cases,
    "danbooru": corpus.danbooru_cases,
    "gitlab": corpus.gitlab_cases,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="default: sqldef")
    parser.add_argument("--file", action="append", help="sqldef file stem, e.g. tests_tables (repeatable)")
    parser.add_argument("--case", action="append", help="a case id as printed, e.g. tests_tables::DropTable")
    parser.add_argument("--pg", choices=["15", "18"], default="18", help="server: 18 embedded, 15 Debian's")
    parser.add_argument("--status", action="append", choices=["pass", "fail", "noload", "skip"],
                        help="print only cases with this outcome")
    parser.add_argument("--load-only", action="store_true", help="only load each side: which cases load here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print whole failure messages")
    args = parser.parse_args(argv)

    cases: list[corpus.Case] = []
    for suite in args.suite or ["sqldef"]:
        if suite == "sqldef":
            files = [f.removesuffix(".yml") for f in args.file] if args.file else None
            cases += corpus.sqldef_cases(files)
        else:
            cases += SUITES[suite]()
    if args.case:
        cases = [c for c in cases if c.id in args.case or c.name in args.case]
    if not cases:
        print("no cases selected", file=sys.stderr)
        return 2

    oracle.prefer_tmpfs()
    from schemashift.dialects.postgres.servers import get_server

    started = time.monotonic()
    cluster = corpus.prepare_cluster(get_server(pg_bin=corpus.PG15_BIN if args.pg == "15" else None))
    results: list[tuple[corpus.Case, corpus.Result]] = []
    for case in cases:
        took = 0.0
        if case.majors and cluster.major not in case.majors:
            result = corpus.Result("skip", f"meant for PostgreSQL {case.majors}", cluster.major)
        else:
            t0 = time.monotonic()
            result = corpus.run_case(cluster, case, load_only=args.load_only)
            took = time.monotonic() - t0
        results.append((case, result))
        if not args.status or result.status in args.status:
            text = result.message if args.verbose else result.first_line
            print(f"{result.status.upper():6} {case.id} {took:.2f}s  {text}".rstrip(), flush=True)

    print(f"\nPostgreSQL {cluster.major}, {len(cases)} cases in {time.monotonic() - started:.1f}s")
    print(f"{'file':28} {'pass':>5} {'fail':>5} {'noload':>6} {'skip':>5} {'loaded':>6} {'rate':>7}")
    total = {"pass": 0, "fail": 0, "noload": 0, "skip": 0}
    for file, row in sorted(corpus.tally(results).items()):
        for k in total:
            total[k] += row[k]
        print(_row(file, row))
    print(_row("TOTAL", total))
    return 1 if total["fail"] else 0


def _row(name: str, row: dict[str, int]) -> str:
    loaded = row["pass"] + row["fail"]
    rate = f"{100 * row['pass'] / loaded:6.1f}%" if loaded else "      -"
    return f"{name:28} {row['pass']:5} {row['fail']:5} {row['noload']:6} {row['skip']:5} {loaded:6} {rate}"


if __name__ == "__main__":
    sys.exit(main())
