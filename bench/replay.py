"""`schemashift new` and `check` on a folder of 300 migrations: without the template cache (every call
replays the folder, as before it), with it (the folder's templates kept on the server), the first
call that keeps them, and after adding one migration (the replay starts from the template of the 300th), beside `alembic check` on
an equivalent Alembic project (the same 300 migrations as `op.execute`, plus SQLAlchemy models of
the schema they build; `alembic check` compares the models with the database, which must be at head).

    python bench/replay.py [--runs 5] [--count 300]     # JSON in bench/results/replay-<time>.json

All calls are a user's: a kept embedded PostgreSQL 18 and the warm process. The live database both
tools check is on a throwaway embedded PostgreSQL 18 of its own. The commands take turns, one run
each per round; a ratio is the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diffs  # noqa: E402
import gitlab_cache  # noqa: E402
import migrations  # noqa: E402
from stats import paired_ratio  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = Path(__file__).resolve().parent / "results"

ALEMBIC_CHECK_ENV = '''
from alembic import context
from sqlalchemy import create_engine

import models

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=models.metadata)
    with context.begin_transaction():
        context.run_migrations()
'''


def write_models(path: Path, count: int) -> None:
    """SQLAlchemy models of what `migrations.migration(1..count)` builds."""
    lines = ["from sqlalchemy import BigInteger, Column, Index, MetaData, Table, Text", "",
             "metadata = MetaData()", ""]
    for k in range(1, count + 1, 2):
        columns = ['Column("id", BigInteger, primary_key=True)', 'Column("name", Text, nullable=False)']
        if k + 1 <= count:
            columns.append(f'Column("note{k + 1}", Text)')
        lines.append(f't{k} = Table("t{k}", metadata, {", ".join(columns)})')
        if k + 1 <= count:
            lines.append(f'Index("t{k}_name", t{k}.c.name)')
    path.write_text("\n".join(lines) + "\n")


def write_alembic_check(project: Path, count: int, url: str) -> None:
    migrations.write_alembic(project, count)
    (project / "env.py").write_text(f"import sys\nsys.path.insert(0, {str(project)!r})\n" + ALEMBIC_CHECK_ENV)
    write_models(project / "models.py", count)
    sa_url = url.replace("postgresql://", "postgresql+psycopg://").replace("%", "%%")
    (project / "alembic.ini").write_text(f"[alembic]\nscript_location = {project}\nsqlalchemy.url = {sa_url}\n")


def run(count: int, runs: int) -> dict[str, object]:
    from schemashift.dialects.postgres.servers import LocalServer, embedded_bin_dir

    shift = str(BIN / "schemashift")
    pg_bin = str(embedded_bin_dir())
    work = Path(tempfile.mkdtemp(prefix="ss-bench-replay-"))
    work.chmod(0o755)
    folder = work / "migrations"
    migrations.write_schemashift(folder, count)
    target = work / "target.sql"
    migrations.write_psql(target, count)
    target.write_text(target.read_text() + "CREATE TABLE extra (id int);\n")
    live_server = LocalServer(Path(pg_bin))
    live = live_server.url(live_server.create_database())
    alembic_url = live_server.url(live_server.create_database())
    write_alembic_check(work / "alembic", count, alembic_url)
    common = ["--migrations", str(folder), "--pg-bin", pg_bin]
    check = [shift, "check", "--url", live, *common]
    new = [shift, "new", "bench", "--target", str(target), *common]
    alembic = [str(BIN / "alembic"), "-c", str(work / "alembic" / "alembic.ini")]
    walls: dict[str, list[float]] = {}
    try:
        with diffs.user_envs(BIN / "schemashift") as (env, _):
            def call(argv: list[str], codes: tuple[int, ...] = (0,)) -> float:
                start = time.perf_counter()
                proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=work)
                wall = time.perf_counter() - start
                if proc.returncode not in codes:
                    raise SystemExit(f"bench: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
                return wall

            def undo_new() -> None:
                for written in folder.glob(f"{count + 1:04d}_*.sql"):
                    written.unlink()
                call([shift, "hash", "--migrations", str(folder)])

            call([shift, "up", "--url", live, *common])
            call([*alembic, "upgrade", "head"])
            call([*alembic, "check"])  # the models match: the bench compares like with like
            diffs.wait_warm(Path(env["XDG_CACHE_HOME"]))
            call(check)  # the templates of the folder, kept from here on
            admin = psycopg.connect(gitlab_cache.kept_admin_url(env), autocommit=True)

            def first_check() -> float:
                """`check` with no template of the folder yet: it replays all and keeps the checkpoints."""
                gitlab_cache.drop_templates(admin)
                return call(check)

            cases = {
                "check_first": first_check,
                "check_no_cache": lambda: call([*check, "--no-cache"]),
                "check_cached": lambda: call(check),
                "check_one_new": lambda: one_new(call, shift, folder, count, live, common, check),
                "new_no_cache": lambda: (call([*new, "--no-cache"]), undo_new())[0],
                "new_cached": lambda: (call(new), undo_new())[0],
                "alembic_check": lambda: call([*alembic, "check"]),
            }
            walls = {name: [] for name in cases}
            with admin:
                for _ in range(runs):
                    for name, case in cases.items():
                        walls[name].append(case())
    finally:
        live_server.stop()
        shutil.rmtree(work, ignore_errors=True)
    median = {name: statistics.median(w) for name, w in walls.items()}
    return {
        "migrations": count, "runs": runs, "seconds": median, "all_seconds": walls,
        "check_no_cache_vs_cached": paired_ratio(walls["check_no_cache"], walls["check_cached"]),
        "new_no_cache_vs_cached": paired_ratio(walls["new_no_cache"], walls["new_cached"]),
        **{f"alembic_check_vs_{name}": paired_ratio(walls["alembic_check"], walls[name])
           for name in ("check_cached", "check_one_new", "check_no_cache")},
    }


_round = [0]


def one_new(call, shift: str, folder: Path, count: int, live: str, common: list[str], check: list[str]) -> float:
    """`check` right after a new migration (its content new each round, so its template is not
    cached yet): the replay starts from the 300th migration's template."""
    _round[0] += 1
    path = folder / f"{count + 1:04d}_added.sql"
    path.write_text(f"-- schemashift:up\nCREATE TABLE added{_round[0]} (id int);\n"
                    f"-- schemashift:down\nDROP TABLE added{_round[0]};\n")
    call([shift, "hash", "--migrations", str(folder)])
    call([shift, "up", "--url", live, *common])
    try:
        return call(check)
    finally:
        call([shift, "down", "--steps", "1", "--url", live, *common])
        path.unlink()
        call([shift, "hash", "--migrations", str(folder)])


def summary(found: dict) -> str:
    s = found["seconds"]
    return "\n".join([
        f"replay of {found['migrations']} migrations, medians of {found['runs']} (seconds):",
        f"  check: no cache {s['check_no_cache']:.2f}, cached {s['check_cached']:.2f} "
        f"({found['check_no_cache_vs_cached']:.1f}x), one migration added {s['check_one_new']:.2f}, "
        f"first (keeping the checkpoints) {s['check_first']:.2f}",
        f"  new:   no cache {s['new_no_cache']:.2f}, cached {s['new_cached']:.2f} ({found['new_no_cache_vs_cached']:.1f}x)",
        f"  alembic check {s['alembic_check']:.2f}, slower than schemashift check cached "
        f"{found['alembic_check_vs_check_cached']:.1f}x, one added {found['alembic_check_vs_check_one_new']:.1f}x, "
        f"no cache {found['alembic_check_vs_check_no_cache']:.1f}x",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    os.environ.pop("SCHEMASHIFT_SERVER_IDLE", None)
    found = run(args.count, args.runs)
    text = summary(found)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"replay-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({**found, "summary": text}, indent=1) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
