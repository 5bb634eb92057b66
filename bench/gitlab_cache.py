"""`schemashift diff init_structure.sql structure.sql` (GitLab) with the template cache, beside the
floors it is judged by, all on one kept embedded PostgreSQL 18 and in one run:

- cached: both files' templates on the server (the call before made them): the diff reads them
  where they are; its floor, the in-database diff: `schemashift diff URL URL` of two databases
  loaded with the same files;
- uncached: no template (the bench drops them first): both files are loaded (in parallel, one
  backend each) and kept; its floor, `psql -f` loading both files in parallel into two new
  databases (the server's own work, with no inspection and no diff at all).

    python bench/gitlab_cache.py [--runs 5]     # JSON in bench/results/gitlab-cache-<time>.json

The four commands take turns, one run each per round; a ratio is the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diffs  # noqa: E402
from stats import paired_ratio  # noqa: E402

BIN = Path(sys.executable).parent
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "gitlab"
FILES = (CORPUS / "init_structure.sql", CORPUS / "structure.sql")
PSQL = "/usr/lib/postgresql/15/bin/psql"  # the embedded server ships no psql
RESULTS = Path(__file__).resolve().parent / "results"


def kept_admin_url(env: dict[str, str]) -> str:
    """The admin URL of the kept embedded server of the cache folder in `env` (started by then)."""
    from schemashift.dialects.postgres import servers
    from schemashift.runtime import keeper

    os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
    return servers._socket_url(keeper.home_for(servers.embedded_bin_dir()))


def drop_templates(admin: psycopg.Connection) -> None:
    for (name,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sstpl\\_%'").fetchall():
        admin.execute(f'DROP DATABASE "{name}"')


def psql_parallel(admin_url: str, admin: psycopg.Connection, names: tuple[str, str]) -> float:
    """Two new databases loaded by two `psql -f` at once; the wall time of both."""
    from schemashift.urls import url_with_database

    for name in names:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    start = time.perf_counter()
    procs = [subprocess.Popen([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url_with_database(admin_url, name),
                               "-f", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for name, path in zip(names, FILES)]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"bench: psql failed: {proc.stderr.read().decode()[-400:]}")
    return time.perf_counter() - start


def run(runs: int) -> dict[str, object]:
    from schemashift.urls import url_with_database

    shift = str(BIN / "schemashift")
    names = ("bench_init_structure", "bench_structure")
    with diffs.user_envs(BIN / "schemashift") as (env, _):
        def call(argv: list[str]) -> float:
            start = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if proc.returncode != 2:
                raise SystemExit(f"bench: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
            return wall

        files_diff = [shift, "diff", "--unsafe", *map(str, FILES)]
        call(files_diff)  # starts the kept server and the warm process
        diffs.wait_warm(Path(env["XDG_CACHE_HOME"]))
        admin_url = kept_admin_url(env)
        urls = [url_with_database(admin_url, name) for name in names]
        walls: dict[str, list[float]] = {"uncached": [], "psql_parallel": [], "cached": [], "in_database": []}
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for _ in range(runs):
                drop_templates(admin)
                walls["uncached"].append(call(files_diff))
                walls["psql_parallel"].append(psql_parallel(admin_url, admin, names))
                walls["cached"].append(call(files_diff))
                walls["in_database"].append(call([shift, "diff", "--unsafe", *urls]))
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    median = {name: statistics.median(w) for name, w in walls.items()}
    return {"runs": runs, "seconds": median, "all_seconds": walls,
            "cached_vs_in_database": paired_ratio(walls["cached"], walls["in_database"]),
            "uncached_vs_psql_parallel": paired_ratio(walls["uncached"], walls["psql_parallel"])}


def summary(found: dict) -> str:
    s = found["seconds"]
    return "\n".join([
        f"GitLab diff init_structure.sql structure.sql, medians of {found['runs']} (seconds):",
        f"  cached {s['cached']:.2f} vs in-database diff {s['in_database']:.2f}: "
        f"{found['cached_vs_in_database']:.2f}x (target <= 1.2x)",
        f"  uncached {s['uncached']:.2f} vs psql -f of both in parallel {s['psql_parallel']:.2f}: "
        f"{found['uncached_vs_psql_parallel']:.2f}x (target <= 1.2x)",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    found = run(args.runs)
    text = summary(found)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"gitlab-cache-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({**found, "summary": text}, indent=1) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
