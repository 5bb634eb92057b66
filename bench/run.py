"""Benchmarks: schemashift beside its peers on the same work, in one run, on one server.

    python bench/run.py                 # everything; results table on stdout, JSON in bench/results/
    python bench/run.py --only help     # one part: gitlab-diff, inspect-floor, queries, help

Needs the corpus beside the repository (../shared/corpus), Debian's PostgreSQL 15 (the server both
tools read; migra predates PostgreSQL 18's catalogs) and `pip install -e '.[bench]'` for migra.
Timings are medians; memory is the peak resident size of the process that did the work.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
PG15 = "/usr/lib/postgresql/15/bin"
BIN = Path(sys.executable).parent


def timed(cmd: list[str], runs: int) -> dict[str, float]:
    """Median wall time and peak memory of a command, through GNU time's %e and %M."""
    walls, peaks = [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r") as out:
            start = time.perf_counter()
            subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%M", *cmd], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            walls.append(time.perf_counter() - start)
            peaks.append(int(out.read().split()[-1]) / 1024)
    return {"seconds": statistics.median(walls), "peak_mb": max(peaks)}


def load(server: object, path: Path) -> str:
    name = server.create_database()  # type: ignore[attr-defined]
    with psycopg.connect(server.url(name), autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(path.read_bytes())
    return server.url(name)  # type: ignore[attr-defined]


def gitlab_diff(server: object, runs: int) -> dict[str, object]:
    """`diff` of GitLab's two schemas, both already loaded: schemashift vs migra on the same URLs."""
    a = load(server, CORPUS / "gitlab" / "init_structure.sql")
    b = load(server, CORPUS / "gitlab" / "structure.sql")
    ours = timed([str(BIN / "schemashift"), "diff", "--unsafe", a, b], runs)
    as_sqlalchemy = [u.replace("postgresql://", "postgresql+psycopg://") for u in (a, b)]
    migra = timed([str(BIN / "migra"), "--unsafe", *as_sqlalchemy], runs)
    return {"schemashift": ours, "migra": migra, "ratio": migra["seconds"] / ours["seconds"], "runs": runs}


def _inspection_queries(url: str) -> list[str]:
    """The inspector's queries with their parameters inlined, in the order it sends them."""
    from schemashift.dialects.postgres.inspect import InspectOptions, inspect_connection

    sent: list[str] = []
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        original = psycopg.ClientCursor.execute

        def record(self: psycopg.ClientCursor, query: object, params: object = None, **kw: object) -> object:
            sent.append(self.mogrify(query, params))  # type: ignore[arg-type]
            return original(self, query, params, **kw)  # type: ignore[arg-type]

        psycopg.ClientCursor.execute = record  # type: ignore[method-assign]
        try:
            inspect_connection(conn, InspectOptions())
        finally:
            psycopg.ClientCursor.execute = original  # type: ignore[method-assign]
    return sent


def inspect_floor(server: object, runs: int) -> dict[str, object]:
    """Inspection of GitLab vs the floor: the same queries run by psql, output discarded."""
    from schemashift.dialects.postgres.inspect import inspect_connection

    url = load(server, CORPUS / "gitlab" / "structure.sql")
    walls = []
    for _ in range(runs):
        with psycopg.connect(url, autocommit=True) as conn:
            start = time.perf_counter()
            inspect_connection(conn)
            walls.append(time.perf_counter() - start)
    script = Path(tempfile.mkdtemp()) / "inspect.sql"
    script.write_text("\n".join(q.rstrip().rstrip(";") + ";" for q in _inspection_queries(url)))
    floor = timed([f"{PG15}/psql", "-X", "-q", "-o", "/dev/null", "-d", url, "-f", str(script)], runs)
    ours = statistics.median(walls)
    return {"schemashift_seconds": ours, "psql_floor_seconds": floor["seconds"], "ratio": ours / floor["seconds"]}


def query_counts(server: object) -> dict[str, int]:
    """How many SQL statements one inspection sends, for a big and a small schema."""
    counts = {}
    for label, path in (("gitlab", CORPUS / "gitlab" / "structure.sql"),
                        ("chinook", CORPUS / "chinook" / "schema_only_PostgreSql.sql")):
        counts[label] = len(_inspection_queries(load(server, path)))
    return counts


def help_startup(runs: int) -> dict[str, object]:
    ours = timed([str(BIN / "schemashift"), "--help"], runs)
    python = timed([sys.executable, "-c", "pass"], runs)
    return {"schemashift_help": ours, "python_pass": python, "ratio": ours["seconds"] / python["seconds"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=["gitlab-diff", "inspect-floor", "queries", "help"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("/usr/bin/time"):
        sys.exit("bench: GNU time is needed (apt-get install time)")
    from schemashift.servers import get_server

    server = get_server(pg_bin=PG15)
    parts: dict[str, Callable[[], object]] = {
        "gitlab-diff": lambda: gitlab_diff(server, args.runs),
        "inspect-floor": lambda: inspect_floor(server, args.runs),
        "queries": lambda: query_counts(server),
        "help": lambda: help_startup(max(args.runs, 10)),
    }
    results: dict[str, object] = {"machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                                              "server": f"PostgreSQL {server.major_version}"}}
    for name in args.only or list(parts):
        results[name] = parts[name]()
        print(f"{name:14} {json.dumps(results[name])}", flush=True)
    out = ROOT / "bench" / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
