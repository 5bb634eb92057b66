"""How long a plan stalls the writers of a live table: the plan `schemashift diff` prints today
beside its `--online` form, at 1 M and 5 M rows on the embedded PostgreSQL 18, in one run.

Two writer threads do single-row INSERTs and UPDATEs on `orders` (each in autocommit, as an
application does) while a plan adds an index, a foreign key to `customers`, a CHECK and a NOT NULL.
Each write's latency is timed; a write that waited for the plan's lock shows as a long one. The
longest write and the 99th percentile of the writes issued while the plan ran are reported per
table size and plan, then the ratios: naive / online, and 5 M / 1 M (the online figure should not
grow with the table). Every plan runs on a fresh copy (`CREATE DATABASE … TEMPLATE`) of the loaded
database; each plan runs `--rounds` times per size (3), naive and online taking turns, and the
medians are reported (the machine is shared: the worst round is printed too, and for every run
what the plan ran during its longest stall and what the writers were seen waiting on).
Run: `.venv/bin/python bench/locks.py [--rows 1000000,5000000] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

BEFORE = """
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount integer NOT NULL, note text);
"""
AFTER = """
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                     amount integer NOT NULL CHECK (amount > 0), note text);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
"""
CUSTOMERS = 10_000
# A database server's usual tuning: shared_buffers a quarter of a small server's memory, and room for
# an index build's sort in memory (with PostgreSQL's 64MB, the 5 M-row build spills to disk, and on
# this shared machine the writers' reads wait behind that I/O: BENCH_MWM=64MB shows it). The
# throwaway server's fsync=off etc. stay.
SETTINGS = {"shared_buffers": "512MB", "max_wal_size": "4GB",
            "maintenance_work_mem": os.environ.get("BENCH_MWM", "512MB")}
WRITERS = 2


@dataclass(frozen=True)
class Run:
    rows: int
    plan: str  # naive | online
    seconds: float  # the plan's own duration
    stall_ms: float  # the longest write issued while the plan ran
    p99_ms: float
    writes: int
    stall_during: str  # what the plan ran meanwhile, and what the writers were seen waiting on


def load(admin: psycopg.Connection, server: object, rows: int) -> str:
    """A database with `rows` orders and the customers they reference, vacuumed and analyzed."""
    name = f"locks_{rows}"
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(server.url(name), autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(BEFORE)
        conn.execute("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, %s) g", [CUSTOMERS])
        conn.execute("INSERT INTO orders SELECT g, 1 + g %% %s, 1 + g %% 100, 'order ' || g "
                     "FROM generate_series(1, %s) g", [CUSTOMERS, rows])
        conn.execute("VACUUM ANALYZE")
    return name


def writer(url: str, first_id: int, stop: threading.Event, out: list[tuple[float, float]]) -> None:
    """Alternate an INSERT of a new order and an UPDATE of a random one until `stop`; record
    (start, latency) of each."""
    rng = random.Random(first_id)
    with psycopg.connect(url, autocommit=True, application_name="bench-writer") as conn:
        next_id = first_id
        while not stop.is_set():
            started = time.monotonic()
            if next_id % 2:
                conn.execute("INSERT INTO orders VALUES (%s, %s, 1, 'new')", [next_id, rng.randint(1, CUSTOMERS)])
            else:
                conn.execute("UPDATE orders SET amount = amount + 1 WHERE id = %s", [rng.randint(1, 1_000_000)])
            out.append((started, time.monotonic() - started))
            next_id += 1


_ACTIVITY = """
select coalesce(max(left(query, 70)) filter (where application_name not like 'bench-%%' and state = 'active'), ''),
       coalesce(string_agg(distinct wait_event_type || ':' || wait_event, ',')
                filter (where application_name = 'bench-writer'), '')
from pg_stat_activity where datname = current_database()
"""  # the plan's running statement, and what the writers wait for (Lock:relation, LWLock:WALWrite, ...)


def watch(url: str, stop: threading.Event, out: list[tuple[float, str, str]]) -> None:
    """Every 2 ms: (time, the plan's running statement, the writers' wait events)."""
    with psycopg.connect(url, autocommit=True, application_name="bench-watch") as conn:
        while not stop.is_set():
            query, waits = conn.execute(_ACTIVITY).fetchone()  # type: ignore[misc]
            out.append((time.monotonic(), query, waits))
            time.sleep(0.002)


def during(activity: list[tuple[float, str, str]], start: float, latency: float) -> str:
    """What the watcher saw while one write waited: the writers' wait events and the plan's statements."""
    seen = [(q, w) for t, q, w in activity if start <= t <= start + latency]
    queries = list(dict.fromkeys(" ".join(q.split()) for q, _ in seen if q))
    waits = sorted({e for _, w in seen for e in w.split(",") if e})
    return (f"writers waited on: {', '.join(waits) or 'nothing seen'} ({len(seen)} samples); "
            f"plan ran: {' | '.join(queries) or 'nothing seen'}")


def run_plan(server: object, base: str, rows: int, kind: str, plan: object) -> Run:
    from schemashift import api

    admin = server._admin_conn()  # type: ignore[attr-defined]
    name = f"{base}_{kind}"
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(base)))
    url = server.url(name)  # type: ignore[attr-defined]
    stop = threading.Event()
    samples: list[list[tuple[float, float]]] = [[] for _ in range(WRITERS)]
    threads = [threading.Thread(target=writer, args=(url, 10**9 * (i + 1) + 1, stop, samples[i]))
               for i in range(WRITERS)]
    activity: list[tuple[float, str, str]] = []
    threads.append(threading.Thread(target=watch, args=(url, stop, activity)))
    for t in threads:
        t.start()
    time.sleep(1.0)  # writers warmed up
    started = time.monotonic()
    api.apply(plan, url, lock_retries=5)  # type: ignore[arg-type]
    ended = time.monotonic()
    time.sleep(0.5)  # writes queued behind the last lock finish
    stop.set()
    for t in threads:
        t.join()
    writes = sorted((lat, start) for s in samples for start, lat in s if started <= start <= ended)
    admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    p99 = writes[min(len(writes) - 1, int(0.99 * len(writes)))][0] if writes else 0.0
    longest, at = writes[-1] if writes else (0.0, started)
    return Run(rows, kind, ended - started, 1000 * longest, 1000 * p99, len(writes), during(activity, at, longest))


def plans(server: object, base: str) -> dict[str, object]:
    """The naive plan (what `schemashift diff` prints) and its `--online` form, from the loaded
    database to AFTER."""
    from schemashift import api
    from schemashift.online_flags import OnlineOptions

    with tempfile.TemporaryDirectory() as tmp:
        after = Path(tmp) / "after.sql"
        after.write_text(AFTER)
        dev = server.url("postgres")  # type: ignore[attr-defined]
        url = server.url(base)  # type: ignore[attr-defined]
        return {"naive": api.diff(url, str(after), dev_url=dev),
                "online": api.diff(url, str(after), dev_url=dev, online=OnlineOptions())}


def rehearsal(url: str, plan: object, rows: int) -> None:
    """`schemashift rehearse` of the naive plan on a copy of the loaded database."""
    from schemashift.dialects.postgres import rehearse
    from schemashift.rehearse_command import table_text

    with rehearse.copy_of(url) as copy:
        reports = rehearse.rehearse(copy, rehearse.plan_units(plan))  # type: ignore[arg-type]
    print(f"\nrehearse of the naive plan at {rows:,} rows:\n{table_text(reports)}")


def main() -> None:
    from schemashift.dialects.postgres.servers import LocalServer, embedded_bin_dir

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="1000000,5000000")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each plan per size, taking turns")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    server = LocalServer(embedded_bin_dir(), SETTINGS)
    try:
        admin = server._admin_conn()
        print(f"server: PostgreSQL {admin.execute('SHOW server_version').fetchone()[0]}")
        runs: list[Run] = []
        for rows in sizes:
            base = load(admin, server, rows)
            made = plans(server, base)
            for round_ in range(args.rounds):
                for kind, plan in made.items():
                    if rows == sizes[0] and round_ == 0:
                        print(f"\n-- {kind} plan:\n{plan.sql}")  # type: ignore[attr-defined]
                    runs.append(run_plan(server, base, rows, kind, plan))
                    print(runs[-1], flush=True)
            if rows == sizes[-1]:
                rehearsal(server.url(base), made["naive"], rows)
            admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(base)))
        report(runs, sizes)
    finally:
        server.stop()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def report(runs: list[Run], sizes: list[int]) -> None:
    """Per size and plan: the median of the rounds (and the worst round's longest stall); the
    ratios are of medians."""
    cells: dict[tuple[int, str], list[Run]] = {}
    for r in runs:
        cells.setdefault((r.rows, r.plan), []).append(r)
    stall = {k: statistics.median(r.stall_ms for r in v) for k, v in cells.items()}
    print(f"\nmedians of {len(next(iter(cells.values())))} rounds per cell")
    print("| rows | plan | plan runs | longest write stall (worst round) | p99 write latency | writes during plan |")
    print("|---:|---|---:|---:|---:|---:|")
    for (rows, kind), v in cells.items():
        print(f"| {rows:,} | {kind} | {statistics.median(r.seconds for r in v):.2f} s | {stall[(rows, kind)]:.0f} ms "
              f"({max(r.stall_ms for r in v):.0f} ms) | {statistics.median(r.p99_ms for r in v):.1f} ms | "
              f"{statistics.median(r.writes for r in v):.0f} |")
    print()
    for r in runs:
        print(f"longest stall {r.stall_ms:.0f} ms, {r.rows:,} rows, {r.plan}: {r.stall_during}")
    print()
    for rows in sizes:
        print(f"{rows:,} rows: naive / online longest stall = "
              f"{stall[(rows, 'naive')] / max(stall[(rows, 'online')], 1e-9):.1f}x")
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        for kind in ("naive", "online"):
            print(f"{kind}: longest stall at {big:,} / at {small:,} rows = "
                  f"{stall[(big, kind)] / max(stall[(small, kind)], 1e-9):.2f}x")
    online = stall[(sizes[-1], "online")]
    print(f"target: --online longest stall <= 100 ms at {sizes[-1]:,} rows (median): "
          f"{'met' if online <= 100 else 'NOT met'} ({online:.0f} ms)")


if __name__ == "__main__":
    main()
