"""Models against a live database on the other engines: `schemashift diff MODELS URL` beside Alembic's
autogenerate comparison (`compare_metadata`) of the same SQLAlchemy models and database, in one run.

    python bench/dialects.py [--tables 200] [--runs 5]

A models module of N tables (columns of several types, a unique constraint, an index, a foreign key
to the table before) is written to a temporary folder; the database is built from it by SQLAlchemy's
`create_all`, then drifts: every tenth table loses a column and gains an index. Both tools run as a
user runs them, each in a process of its own that imports what it needs: schemashift as its CLI
(after a first call, in its warm process; also with the models file edited before each call, so its
compiled DDL cannot be reused; and with warm processes off), Alembic as a script calling
`compare_metadata`. Each prints what it found, so both are checked to see the drift. The ratio is
the median of the per-round ratios (the commands take turns, see `stats.paired_ratio`).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diffs  # noqa: E402
from run import BIN, timed_together  # noqa: E402
from stats import paired_ratio  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

ALEMBIC = """
import sys
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
import models
with create_engine(sys.argv[1]).connect() as conn:
    print(len(compare_metadata(MigrationContext.configure(conn), models.Base.metadata)))
"""


def models_source(tables: int) -> str:
    """A models module of `tables` tables, each referencing the one before it."""
    head = textwrap.dedent("""\
        from datetime import datetime
        from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass
        """)
    classes = []
    for i in range(tables):
        ref = f'\n    parent_id: Mapped[int | None] = mapped_column(ForeignKey("t{i - 1}.id", ondelete="CASCADE"))' if i else ""
        classes.append(textwrap.dedent(f"""

            class T{i}(Base):
                __tablename__ = "t{i}"
                __table_args__ = (UniqueConstraint("code", name="t{i}_code_key"), Index("t{i}_name_idx", "name"))
                id: Mapped[int] = mapped_column(Integer, primary_key=True)
                code: Mapped[str] = mapped_column(String(40))
                name: Mapped[str] = mapped_column(String(200))
                notes: Mapped[str | None] = mapped_column(Text)
                price: Mapped[float] = mapped_column(Numeric(12, 2), default=0)
                active: Mapped[bool] = mapped_column(Boolean, default=True)
                created: Mapped[datetime | None] = mapped_column(DateTime)""") + ref + "\n")
    return head + "".join(classes)


def build(folder: Path, tables: int) -> str:
    """The models module in `folder`, and a SQLite database built from it, then drifted."""
    (folder / "models.py").write_text(models_source(tables))
    db = folder / "app.db"
    subprocess.run([sys.executable, "-c", "import sys, models; from sqlalchemy import create_engine; "
                    "models.Base.metadata.create_all(create_engine(sys.argv[1]))", f"sqlite:///{db}"],
                   cwd=folder, check=True, env={**diffs.child_env(), "PYTHONPATH": str(folder)})
    with sqlite3.connect(db) as conn:
        for i in range(0, tables, 10):
            conn.execute(f"ALTER TABLE t{i} DROP COLUMN notes")
            conn.execute(f"CREATE INDEX t{i}_created_idx ON t{i} (created)")
    return f"sqlite:///{db}"


def measure(url: str, folder: Path, runs: int) -> dict[str, object]:
    schemashift = [str(BIN / "schemashift"), "diff", "--unsafe", "python:models:Base", url]
    alembic = [sys.executable, "-c", ALEMBIC, url]
    with diffs.user_envs(BIN / "schemashift") as (env, own_env):
        env, own_env = ({**e, "PYTHONPATH": str(folder)} for e in (env, own_env))
        plan = subprocess.run(schemashift, env=env, capture_output=True, text=True, cwd=folder)
        found = subprocess.run(alembic, env=env, capture_output=True, text=True, cwd=folder, check=True)
        if plan.returncode != 2 or int(found.stdout) == 0:
            raise SystemExit(f"bench: a tool saw no drift: {plan.stderr or found.stderr}")
        diffs.wait_warm(Path(env["XDG_CACHE_HOME"]))
        edited = ["sh", "-c", f'touch "{folder}/models.py" && exec "$0" "$@"', *schemashift]
        timings = timed_together({"warm": (schemashift, env), "warm_models_edited": (edited, env),
                                  "own_process": (schemashift, own_env), "alembic": (alembic, env)}, runs)
    alembic_seconds = timings["alembic"]["all_seconds"]
    return {"statements": len([s for s in plan.stdout.split(";\n") if s.strip()]), "alembic_changes": int(found.stdout),
            **{k: round(v["seconds"], 3) for k, v in timings.items()},
            "ratio_warm": round(paired_ratio(alembic_seconds, timings["warm"]["all_seconds"]), 2),
            "ratio_warm_models_edited": round(paired_ratio(alembic_seconds, timings["warm_models_edited"]["all_seconds"]), 2),
            "ratio_own_process": round(paired_ratio(alembic_seconds, timings["own_process"]["all_seconds"]), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="ss-bench-dialects-") as tmp:
        folder = Path(tmp)
        results["sqlite"] = measure(build(folder, args.tables), folder, args.runs)
    print(f"models ({args.tables} tables) vs database, seconds (median of {args.runs}); ratio = alembic / schemashift")
    columns = ("warm", "warm_models_edited", "own_process", "alembic", "ratio_warm", "ratio_warm_models_edited",
               "ratio_own_process")
    print("engine  " + " ".join(f"{c:>24}" for c in columns))
    for engine, r in results.items():
        print(f"{engine:8}" + " ".join(f"{r[c]:>24}" for c in columns))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dialects.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
