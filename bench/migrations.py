"""1,000 small generated migrations, applied on one durable server: `schemashift up` (as a user
runs it, in the warm process, and in a process of its own), the same SQL through `psql -f`
(autocommit per statement) and `alembic upgrade head` on an equivalent 1,000-revision project (one
transaction for the whole run, Alembic's default). The same file through `psql -1 -f` (one
transaction) is the floor: the server's own work.

The server is started here as a durable cluster (fsync, synchronous commit and full-page writes on:
PostgreSQL's defaults), so each tool pays for the flushes it asks for; `run.py` runs this once on
the embedded PostgreSQL 18 and once on Debian's PostgreSQL 15. Up to 16, PostgreSQL flushes every
index it builds to disk at once (nbtree's build ends with an fsync; 17 hands it to the checkpointer),
so on 15 the floor is mostly those 1,500 flushes, paid alike by every tool.
Every run gets a fresh database.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from stats import paired_ratio

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def migration(k: int) -> tuple[str, str]:
    """The up and down SQL of migration `k`: a table, then a column and an index on it."""
    if k % 2:
        return (f"CREATE TABLE t{k} (id bigint PRIMARY KEY, name text NOT NULL);",
                f"DROP TABLE t{k};")
    return (f"ALTER TABLE t{k - 1} ADD COLUMN note{k} text;\nCREATE INDEX t{k - 1}_name ON t{k - 1} (name);",
            f"DROP INDEX t{k - 1}_name;\nALTER TABLE t{k - 1} DROP COLUMN note{k};")


def write_schemashift(folder: Path, count: int) -> None:
    from schemashift.migrations import checksum
    from schemashift.migrations.files import read_folder

    folder.mkdir(parents=True)
    for k in range(1, count + 1):
        up, down = migration(k)
        (folder / f"{k:04d}_m{k}.sql").write_text(f"-- schemashift:up\n{up}\n-- schemashift:down\n{down}\n")
    checksum.write(folder, read_folder(folder))


def write_psql(path: Path, count: int) -> None:
    path.write_text("\n".join(migration(k)[0] for k in range(1, count + 1)) + "\n")


ALEMBIC_ENV = '''
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
'''

ALEMBIC_REVISION = '''from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{ups}


def downgrade():
{downs}
'''


def write_alembic(project: Path, count: int) -> None:
    """A minimal Alembic project (what `alembic init` makes, trimmed) with one revision per migration."""
    (project / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text(f"[alembic]\nscript_location = {project}\n")
    (project / "env.py").write_text(ALEMBIC_ENV)
    (project / "script.py.mako").write_text("")
    for k in range(1, count + 1):
        up, down = migration(k)
        body = ALEMBIC_REVISION.format(
            rev=f"r{k:04d}", down=f"r{k - 1:04d}" if k > 1 else None,
            ups="\n".join(f"    op.execute({s.strip()!r})" for s in up.split(";") if s.strip()),
            downs="\n".join(f"    op.execute({s.strip()!r})" for s in down.split(";") if s.strip()),
        )
        (project / "versions" / f"r{k:04d}.py").write_text(body)


def run(pg_bin: Path, bin_dir: Path, count: int, runs: int, env: dict[str, str],
        own_env: dict[str, str]) -> dict[str, object]:
    """`env` is a user's (warm process on), `own_env` the same with warm processes off."""
    from schemashift.dialects.postgres.servers import LocalServer

    psql = Path("/usr/lib/postgresql/15/bin/psql")  # the embedded server ships no psql
    server = LocalServer(pg_bin, DURABLE)
    work = Path(tempfile.mkdtemp(prefix="ss-bench-migrations-"))
    write_schemashift(work / "migrations", count)
    write_psql(work / "all.sql", count)
    write_alembic(work / "alembic", count)
    schemashift = [str(bin_dir / "schemashift"), "up", "--migrations", str(work / "migrations"), "--url"]
    commands = {
        "schemashift": lambda url: [*schemashift, url],
        "schemashift_own_process": lambda url: [*schemashift, url],
        "psql": lambda url: [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(work / "all.sql")],
        # The floor: the same statements in one transaction, one flush, no per-file work.
        "psql_one_transaction": lambda url: [str(psql), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d",
                                             url, "-f", str(work / "all.sql")],
        "alembic": lambda url: [str(bin_dir / "alembic"), "-c", str(work / "alembic" / "alembic.ini"), "-x",
                                "unused=1", "upgrade", "head"],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    try:
        for _ in range(runs):
            for name, command in commands.items():  # interleaved, so load changes hit all three alike
                url = server.url(server.create_database())
                sa_url = url.replace("postgresql://", "postgresql+psycopg://")
                (work / "alembic" / "alembic.ini").write_text(
                    f"[alembic]\nscript_location = {work / 'alembic'}\nsqlalchemy.url = {sa_url.replace('%', '%%')}\n")
                start = time.perf_counter()
                proc = subprocess.run(command(url), capture_output=True, text=True,
                                      env=own_env if name == "schemashift_own_process" else env)
                walls[name].append(time.perf_counter() - start)
                if proc.returncode != 0:
                    raise SystemExit(f"bench: {name} failed: {proc.stderr.strip()[-500:]}")
                _check_applied(server, url, count)
        major = server.major_version
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    median = {name: statistics.median(w) for name, w in walls.items()}
    return {
        "server": f"PostgreSQL {major}",
        "migrations": count,
        "runs": runs,
        "seconds": median,
        "all_seconds": walls,
        "schemashift_vs_psql": median["schemashift"] / median["psql"],
        "alembic_vs_schemashift": paired_ratio(walls["alembic"], walls["schemashift"]),
        "alembic_vs_schemashift_own_process": paired_ratio(walls["alembic"], walls["schemashift_own_process"]),
        "alembic_vs_schemashift_ratio_of_medians": median["alembic"] / median["schemashift"],
    }


def _check_applied(server: object, url: str, count: int) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename ~ '^t[0-9]+$'").fetchone()
    assert tables is not None and tables[0] == (count + 1) // 2, (url, tables)
