"""Benchmarks: schemashift beside its peers on the same work, in one run, on one server.

    python bench/run.py                 # everything; results table on stdout, JSON in bench/results/
    python bench/run.py --only help     # one part: gitlab-diff, inspect-floor, queries, help,
                                        # chinook-cli, gitlab-cli, migrations

Needs the corpus beside the repository (../shared/corpus), Debian's PostgreSQL 15 (the server both
tools read; migra predates PostgreSQL 18's catalogs) and `pip install -e '.[bench]'` for migra and
Alembic. Timings are medians; a ratio is the median of the ratios of each round (the commands
compared take turns, one run each per round; see `stats.paired_ratio`), and the ratio of the
medians is printed beside it. Memory is the peak resident size of the process that did the work.
The machine is shared: compare figures of one run (ratios), not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diffs  # noqa: E402
import migrations  # noqa: E402
from stats import paired_ratio  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
PG15 = "/usr/lib/postgresql/15/bin"
BIN = Path(sys.executable).parent


Command = tuple[list[str], "dict[str, str] | None"]  # argv, environment (None: the bench's own)


def timed_together(commands: dict[str, Command], runs: int) -> dict[str, dict[str, Any]]:
    """Median wall time, every run's (in round order) and peak memory (GNU time's %M) of each
    command. The commands take turns, one run each per round, so that a slower or busier stretch
    of a shared machine weighs on all of them alike instead of on whichever ran then."""
    walls: dict[str, list[float]] = {label: [] for label in commands}
    peaks: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, (cmd, env) in commands.items():
            with tempfile.NamedTemporaryFile("r") as out:
                start = time.perf_counter()
                subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%M", *cmd], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False, env=env)
                walls[label].append(time.perf_counter() - start)
                peaks[label].append(int(out.read().split()[-1]) / 1024)
    return {label: {"seconds": statistics.median(walls[label]), "all_seconds": walls[label], "peak_mb": max(peaks[label])}
            for label in commands}


def timed(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    return timed_together({"it": (cmd, env)}, runs)["it"]


def load(server: object, path: Path) -> str:
    """A new database with `path` loaded, then vacuumed and analyzed: the steady state autovacuum
    would reach a minute later, reached now, so that it does not run during the timings."""
    name = server.create_database()  # type: ignore[attr-defined]
    with psycopg.connect(server.url(name), autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(path.read_bytes())
        conn.execute("VACUUM ANALYZE")
    return server.url(name)  # type: ignore[attr-defined]


def warm_and_own(command: list[str], runs: int, peers: dict[str, Command] | None = None,
                 warm_variants: dict[str, list[str]] | None = None) -> dict[str, dict[str, float]]:
    """A schemashift command as a user runs it (after a first call, in the warm process, "warm"),
    in a process of its own (warm processes off, "own_process"), other commands run like "warm"
    (`warm_variants`) and `peers`, timed in turn with them; peak memory is the calling process's."""
    with diffs.user_envs(BIN / "schemashift") as (env, own_env):
        subprocess.run(command, env=env, capture_output=True, check=False)  # starts the warm process
        diffs.wait_warm(Path(env["XDG_CACHE_HOME"]))
        variants = {label: (cmd, env) for label, cmd in (warm_variants or {}).items()}
        return timed_together({"warm": (command, env), "own_process": (command, own_env), **variants,
                               **(peers or {})}, runs)


def gitlab_diff(server: object, runs: int) -> dict[str, object]:
    """`diff` of GitLab's two schemas, both already loaded: schemashift vs migra on the same URLs.
    "schemashift" is a repeated call, which reads both schemas back from the kept ones (their
    catalogs unchanged); "no_cache" (`--no-cache`) reads both databases afresh, as a first call."""
    a = load(server, CORPUS / "gitlab" / "init_structure.sql")
    b = load(server, CORPUS / "gitlab" / "structure.sql")
    as_sqlalchemy = [u.replace("postgresql://", "postgresql+psycopg://") for u in (a, b)]
    command = [str(BIN / "schemashift"), "diff", "--unsafe", a, b]
    found = warm_and_own(command, runs, {"migra": ([str(BIN / "migra"), "--unsafe", *as_sqlalchemy], None)},
                         warm_variants={"no_cache": [*command, "--no-cache"]})
    migra = found["migra"]
    return {"schemashift": found["warm"], "schemashift_own_process": found["own_process"],
            "schemashift_no_cache": found["no_cache"], "migra": migra,
            "ratio": paired_ratio(migra["all_seconds"], found["warm"]["all_seconds"]),
            "ratio_own_process": paired_ratio(migra["all_seconds"], found["own_process"]["all_seconds"]),
            "ratio_no_cache": paired_ratio(migra["all_seconds"], found["no_cache"]["all_seconds"]),
            "ratio_of_medians": migra["seconds"] / found["warm"]["seconds"], "runs": runs}


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


def cli_diff(a: Path, b: Path, runs: int, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """`schemashift diff a b` as a user runs it: throwaway, cold and warm (see diffs.py)."""
    return diffs.diff_timings(BIN / "schemashift", a, b, runs, diffs.child_env(), extra)


def help_startup(runs: int) -> dict[str, object]:
    found = warm_and_own([str(BIN / "schemashift"), "--help"], runs, {"python": ([sys.executable, "-c", "pass"], None)})
    return {"schemashift_help": found["warm"], "schemashift_help_own_process": found["own_process"],
            "python_pass": found["python"]}


def migration_runs(runs: int) -> dict[str, object]:
    """The migrations part on the embedded PostgreSQL 18 (schemashift's default server) and on 15."""
    from schemashift.dialects.postgres.servers import embedded_bin_dir

    found = {}
    with diffs.user_envs(BIN / "schemashift") as (env, own_env):
        subprocess.run([str(BIN / "schemashift"), "--version"], env=env, capture_output=True, check=True)
        diffs.wait_warm(Path(env["XDG_CACHE_HOME"]))
        for label, bin_dir in (("pg18", embedded_bin_dir()), ("pg15", Path(PG15))):
            found[label] = migrations.run(bin_dir, BIN, 1000, runs, env, own_env)
    return found


def summary(results: dict[str, Any]) -> str:
    """The figures the targets are about, one line each."""
    lines = ["", "target                                   measured"]
    if "gitlab-diff" in results:
        g = results["gitlab-diff"]
        lines.append(f"gitlab-diff: >= 6x faster than migra   schemashift {g['schemashift']['seconds']:.2f} s (own "
                     f"process {g['schemashift_own_process']['seconds']:.2f} s, --no-cache "
                     f"{g['schemashift_no_cache']['seconds']:.2f} s), migra {g['migra']['seconds']:.2f} s: "
                     f"{g['ratio']:.2f}x (own process {g['ratio_own_process']:.2f}x, --no-cache "
                     f"{g['ratio_no_cache']:.2f}x; ratio of the medians {g['ratio_of_medians']:.2f}x)")
    if "inspect-floor" in results:
        f = results["inspect-floor"]
        lines.append(f"inspect-floor: <= 1.5x the psql floor   schemashift {f['schemashift_seconds']:.2f} s, psql "
                     f"{f['psql_floor_seconds']:.2f} s: {f['ratio']:.2f}x")
    if "queries" in results:
        q = results["queries"]
        lines.append(f"queries: the same for GitLab and Chinook   GitLab {q['gitlab']}, Chinook {q['chinook']}")
    for name in ("chinook-cli", "gitlab-cli"):
        if name in results:
            s = results[name]["seconds"]
            lines.append(f"{name}: cold < 2 s, warm < 0.5 s (Chinook)   throwaway {s['throwaway']:.2f} s, cold "
                         f"(empty cache) {s['cold_empty_cache']:.2f} s, cold (stopped) {s['cold_stopped']:.2f} s, "
                         f"warm {s['warm']:.2f} s")
    for m in results.get("migrations", {}).values():
        s = m["seconds"]
        lines.append(f"migrations ({m['server']}): <= 1.3x psql, >= 3x faster than Alembic   schemashift "
                     f"{s['schemashift']:.2f} s (own process {s['schemashift_own_process']:.2f} s), psql -f "
                     f"{s['psql']:.2f} s, psql -1 (floor) {s['psql_one_transaction']:.2f} s, Alembic {s['alembic']:.2f} s: "
                     f"{m['schemashift_vs_psql']:.2f}x psql, Alembic {m['alembic_vs_schemashift']:.2f}x slower "
                     f"(own process {m['alembic_vs_schemashift_own_process']:.2f}x; ratio of the medians "
                     f"{m['alembic_vs_schemashift_ratio_of_medians']:.2f}x)")
    if "help" in results:
        h = results["help"]
        lines.append(f"help: --help < 0.15 s   {h['schemashift_help']['seconds']:.3f} s (own process "
                     f"{h['schemashift_help_own_process']['seconds']:.3f} s; python -c pass "
                     f"{h['python_pass']['seconds']:.3f} s)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=["gitlab-diff", "inspect-floor", "queries", "help",
                                                            "chinook-cli", "gitlab-cli", "migrations"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("/usr/bin/time"):
        sys.exit("bench: GNU time is needed (apt-get install time)")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the commands timed run as a user's would: bytecode cached
    os.environ["SCHEMASHIFT_SERVER_IDLE"] = "0"  # the bench's own server is not the user's kept one
    from schemashift.dialects.postgres.servers import get_server

    server = get_server(pg_bin=PG15)
    parts: dict[str, Callable[[], object]] = {
        "gitlab-diff": lambda: gitlab_diff(server, args.runs),
        "inspect-floor": lambda: inspect_floor(server, args.runs),
        "queries": lambda: query_counts(server),
        "help": lambda: help_startup(max(args.runs, 10)),
        "chinook-cli": lambda: cli_diff(CORPUS / "chinook" / "schema_only_PostgreSql.sql",
                                        CORPUS / "chinook" / "schema_only_PostgreSql_SerialPKs.sql", args.runs),
        "gitlab-cli": lambda: cli_diff(CORPUS / "gitlab" / "init_structure.sql", CORPUS / "gitlab" / "structure.sql",
                                       max(1, args.runs // 3)),
        "migrations": lambda: migration_runs(args.runs),
    }
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                              "server": f"PostgreSQL {server.major_version}"}}
    for name in args.only or list(parts):
        results[name] = parts[name]()
        print(f"{name:14} {json.dumps(results[name])}", flush=True)
    print(summary(results))
    out = ROOT / "bench" / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
