"""A fleet: 100 databases × 20 migrations on one durable server, one run of each tool.

    python bench/fleet.py [--databases 100] [--migrations 20]    # prints, and saves bench/results/fleet.txt

- `schemashift up --targets FILE --jobs 1`, then `--jobs 4`: one process for the whole fleet;
- a shell loop of `psql -X -q -v ON_ERROR_STOP=1 -f all.sql -d URL` over the same URLs (the 20 up
  sections in one file, autocommit per statement, no history: the least a script does);
- a shell loop of `alembic upgrade head` over them, with a minimal Alembic project whose 20
  revisions are the same SQL as `op.execute` (one transaction per run, Alembic's default).

Each tool gets 100 fresh databases; afterwards every database is checked to hold the 10 tables.
Creating and dropping the 400 databases on the durable server is most of the ~15 minutes it takes.
The server is durable (fsync, synchronous commit, full-page writes on: PostgreSQL's defaults), so
each tool pays for the flushes it asks for. One run: the machine is shared, so read the ratios.
Needs `pip install -e '.[bench]'` (Alembic) and Debian's psql (/usr/lib/postgresql/15/bin).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from migrations import DURABLE, write_alembic, write_psql, write_schemashift  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "fleet.txt"
BIN = Path(sys.executable).parent
PSQL = Path("/usr/lib/postgresql/15/bin/psql")  # the embedded server ships no psql

# The database URL comes from `-x url=...`, so one project serves every target of the loop.
ALEMBIC_ENV = '''
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
'''

LOOP = 'while IFS= read -r url; do {command} || exit 1; done < "$1"'


def write_projects(work: Path, count: int) -> None:
    write_schemashift(work / "migrations", count)
    write_psql(work / "all.sql", count)
    write_alembic(work / "alembic", count)
    (work / "alembic" / "env.py").write_text(ALEMBIC_ENV)


def commands(work: Path) -> dict[str, Callable[[Path], list[str]]]:
    """Each tool's command line for a targets file (one URL a line)."""
    schemashift = [str(BIN / "schemashift"), "up", "--migrations", str(work / "migrations"), "--targets"]
    psql = f'{PSQL} -X -q -v ON_ERROR_STOP=1 -f {work / "all.sql"} -d "$url"'
    alembic = (f'{BIN / "alembic"} -c {work / "alembic" / "alembic.ini"} '
               '-x url="postgresql+psycopg${url#postgresql}" upgrade head >/dev/null 2>&1')
    return {
        "schemashift --jobs 1": lambda targets: [*schemashift, str(targets), "--jobs", "1"],
        "schemashift --jobs 4": lambda targets: [*schemashift, str(targets), "--jobs", "4"],
        "psql -f loop": lambda targets: ["bash", "-c", LOOP.format(command=psql), "loop", str(targets)],
        "alembic upgrade head loop": lambda targets: ["bash", "-c", LOOP.format(command=alembic), "loop",
                                                      str(targets)],
    }


def check_applied(urls: list[str], count: int) -> None:
    expected = (count + 1) // 2
    for url in urls:
        with psycopg.connect(url) as conn:
            found = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename ~ '^t[0-9]+$'").fetchone()
        if found is None or found[0] != expected:
            raise SystemExit(f"bench: {url} has {found} tables, not {expected}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=100)
    parser.add_argument("--migrations", type=int, default=20)
    args = parser.parse_args()
    os.environ["SCHEMASHIFT_SERVER_IDLE"] = "0"  # no kept server or warm process left behind
    from schemashift.dialects.postgres.servers import LocalServer, embedded_bin_dir

    server = LocalServer(embedded_bin_dir(), DURABLE)
    work = Path(tempfile.mkdtemp(prefix="ss-bench-fleet-"))
    write_projects(work, args.migrations)
    seconds: dict[str, float] = {}
    try:
        for name, command in commands(work).items():
            names = [server.create_database() for _ in range(args.databases)]
            urls = [server.url(n) for n in names]
            targets = work / "targets.txt"
            targets.write_text("\n".join(urls) + "\n")
            start = time.perf_counter()
            proc = subprocess.run(command(targets), capture_output=True, text=True, env=os.environ)
            seconds[name] = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"bench: {name} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
            check_applied(urls, args.migrations)
            for n in names:
                server.drop_database(n)
        major = server.major_version
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = summary(seconds, args.databases, args.migrations, major)
    print(report)
    RESULTS.write_text(report + "\n")
    return 0


def summary(seconds: dict[str, float], databases: int, count: int, major: int) -> str:
    ss1, ss4 = seconds["schemashift --jobs 1"], seconds["schemashift --jobs 4"]
    lines = [
        f"fleet: {databases} databases x {count} migrations, PostgreSQL {major} (durable), one run, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        f"{'command':<28}{'seconds':>9}{'per database':>15}",
        *(f"{name:<28}{s:>9.2f}{s / databases * 1000:>12.1f} ms" for name, s in seconds.items()),
        "",
        f"schemashift --jobs 1 vs --jobs 4:        {ss1 / ss4:.2f}x",
        f"psql -f loop vs schemashift --jobs 1:    {seconds['psql -f loop'] / ss1:.2f}x",
        f"psql -f loop vs schemashift --jobs 4:    {seconds['psql -f loop'] / ss4:.2f}x",
        f"alembic loop vs schemashift --jobs 1:    {seconds['alembic upgrade head loop'] / ss1:.2f}x",
        f"alembic loop vs schemashift --jobs 4:    {seconds['alembic upgrade head loop'] / ss4:.2f}x",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
