"""`rehearse`: run a plan or pending migrations on a copy of a database and report what each
statement locked, for how long, and whom it blocked.

The copy is `CREATE DATABASE … TEMPLATE original`, which PostgreSQL only allows while no other
session is connected to the original; the original is never connected to, only copied. On the copy
the statements run grouped as they would for real (transactions, statements alone). The locks a
statement takes are read in its own session right after it ran (they are held until its
transaction commits, so nothing is missed however short it was); a sampler thread reads
`pg_locks` and `pg_stat_activity` every few milliseconds for what the statement holds while it
runs and for the sessions waiting on it (`pg_blocking_pids`). Those sessions are probe writers,
one per table of the copy (the biggest first), each taking in a loop the lock an INSERT or UPDATE
takes (`LOCK TABLE … IN ROW EXCLUSIVE MODE`, committed at once): a probe that waits is a writer the
statement would have stalled.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ...errors import SchemashiftError
from ...plan import Plan
from ...urls import url_with_database
from .online import starts_transaction

SAMPLE_SECONDS = 0.002
PROBE_PAUSE = 0.005

_MY_LOCKS = """
select mode, relation::regclass::text from pg_locks
where pid = pg_backend_pid() and locktype = 'relation' and granted and relation >= 16384
"""  # the locks on user relations this session holds (all of its transaction's, until it commits)

_HELD = """
select mode, relation::regclass::text from pg_locks
where pid = %s and locktype = 'relation' and granted and relation >= 16384
"""  # the same, of the runner's session, read from another one

_BLOCKED = """
select a.pid, coalesce((select l.relation::regclass::text from pg_locks l where l.pid = a.pid and not l.granted
                        and l.locktype = 'relation' limit 1), '')
from pg_stat_activity a where a.datname = %s and %s = any(pg_blocking_pids(a.pid))
"""  # the sessions of the copy that wait for the runner, and the relation each waits for

_PROBE_TABLES = """
select format('%%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
order by pg_total_relation_size(c.oid) desc limit %s
"""


@dataclass(frozen=True)
class Unit:
    """Statements run together: one transaction, or (one statement) alone in autocommit."""

    statements: tuple[tuple[str, str], ...]  # (label, sql)
    transactional: bool


@dataclass
class Lock:
    mode: str
    relation: str
    seconds: float = 0.0


@dataclass
class Blocked:
    pid: int
    relation: str
    seconds: float = 0.0


@dataclass
class Report:
    """One statement of the rehearsal."""

    label: str
    sql: str
    seconds: float = 0.0
    locks: list[Lock] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"statement": self.label, "sql": self.sql, "duration_ms": round(self.seconds * 1000, 1),
                "locks": [{"mode": k.mode, "relation": k.relation, "held_ms": round(k.seconds * 1000, 1)}
                          for k in self.locks],
                "blocked": [{"pid": b.pid, "relation": b.relation, "waited_ms": round(b.seconds * 1000, 1)}
                            for b in self.blocked],
                "error": self.error}


@contextlib.contextmanager
def copy_of(url: str) -> Iterator[str]:
    """A copy of the database at `url` (its URL), dropped afterwards; the original is only read
    by the server's own CREATE DATABASE."""
    params = conninfo_to_dict(url)
    original = str(params.get("dbname") or params.get("user") or "postgres")
    name = f"{original}_rehearsal_{int(time.time() * 1000) % 10**9}"[-63:]
    with psycopg.connect(url_with_database(url, "postgres" if original != "postgres" else "template1"),
                         autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                            sql.Identifier(original)))
        except psycopg.errors.ObjectInUse:
            # Clients only: an autovacuum worker on the database is ended by CREATE DATABASE itself.
            count = admin.execute("select count(*) from pg_stat_activity where datname = %s "
                                  "and backend_type = 'client backend'", [original]).fetchone()[0]  # type: ignore[index]
            raise SchemashiftError(f"cannot copy database {original}: {count} other session(s) are connected "
                                   "to it, and CREATE DATABASE … TEMPLATE needs none; rehearse on a quiet "
                                   "replica or restore a dump") from None
        try:
            yield url_with_database(url, name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class _Shared:
    """What the runner tells the sampler: which statement runs, and which relations each
    statement of the open transaction has locked."""

    current: int = -1
    alone: bool = False  # the running statement is outside a transaction: only the sampler sees its locks
    in_transaction: list[int] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def rehearse(url: str, units: list[Unit], probes: int = 8) -> list[Report]:
    """Run `units` on the database at `url` (a copy: it is changed) and report each statement."""
    reports = [Report(label, text) for unit in units for label, text in unit.statements]
    shared = _Shared()
    with psycopg.connect(url, autocommit=True) as conn:
        runner_pid = conn.info.backend_pid
        tables = [r[0] for r in conn.execute(_PROBE_TABLES, [probes]).fetchall()]
        dbname = conn.info.dbname
        threads = [threading.Thread(target=_probe, args=(url, t, shared.done), daemon=True) for t in tables]
        threads.append(threading.Thread(target=_sample, args=(url, dbname, runner_pid, shared, reports), daemon=True))
        for t in threads:
            t.start()
        try:
            _run(conn, units, reports, shared)
        finally:
            shared.done.set()
            for t in threads:
                t.join()
    return reports


def _run(conn: psycopg.Connection, units: list[Unit], reports: list[Report], shared: _Shared) -> None:
    conn.execute("SET check_function_bodies = off")
    index = 0
    for unit in units:
        taken: set[tuple[str, str]] = set()
        held: list[tuple[Lock, float]] = []
        with conn.transaction() if unit.transactional else contextlib.nullcontext():
            for _, text in unit.statements:
                report = reports[index]
                with shared.lock:
                    shared.current, shared.alone = index, not unit.transactional
                    shared.in_transaction.append(index)
                started = time.monotonic()
                try:
                    conn.execute(text.encode())
                except psycopg.Error as exc:
                    report.seconds = time.monotonic() - started
                    report.error = exc.diag.message_primary or str(exc).strip()
                    raise SchemashiftError(f"rehearsal stopped at `{text.splitlines()[0][:120]}`: "
                                           f"{report.error}") from None
                report.seconds = time.monotonic() - started
                if unit.transactional:
                    for mode, relation in conn.execute(_MY_LOCKS).fetchall():
                        if (mode, relation) not in taken:
                            taken.add((mode, relation))
                            held.append((_lock(report, mode, relation), started))
                index += 1
        ended = time.monotonic()
        for lock, started in held:  # held until the transaction's commit
            lock.seconds = max(lock.seconds, ended - started)
        with shared.lock:
            shared.in_transaction.clear()
            shared.current = -1


def _lock(report: Report, mode: str, relation: str) -> Lock:
    for lock in report.locks:
        if (lock.mode, lock.relation) == (mode, relation):
            return lock
    report.locks.append(Lock(mode, relation))
    return report.locks[-1]


def _sample(url: str, dbname: str, runner: int, shared: _Shared, reports: list[Report]) -> None:
    """Every few ms: the runner's locks (for statements run alone, whose locks its session cannot
    read afterwards) and the sessions waiting for it, charged to the statement of the open
    transaction that locked the relation they wait for (else to the one running)."""
    seen: dict[tuple[int, str, str], float] = {}  # (statement, mode, relation) -> first seen
    waits: dict[tuple[int, int], tuple[str, float]] = {}  # (statement, pid) -> relation, first seen
    with psycopg.connect(url, autocommit=True) as conn:
        while not shared.done.is_set():
            now = time.monotonic()
            held = conn.execute(_HELD, [runner]).fetchall()
            blocked = conn.execute(_BLOCKED, [dbname, runner]).fetchall()
            with shared.lock:
                current, alone, open_ = shared.current, shared.alone, list(shared.in_transaction)
            if current >= 0:
                for mode, relation in held if alone else ():
                    first = seen.setdefault((current, mode, relation), now)
                    lock = _lock(reports[current], mode, relation)
                    lock.seconds = max(lock.seconds, now - first)
                for pid, relation in blocked:
                    owner = next((i for i in open_ if any(k.relation == relation for k in reports[i].locks)), current)
                    rel, first = waits.setdefault((owner, pid), (relation, now))
                    entry = next((b for b in reports[owner].blocked if b.pid == pid), None)
                    if entry is None:
                        entry = Blocked(pid, rel)
                        reports[owner].blocked.append(entry)
                    entry.seconds = max(entry.seconds, now - first)
            time.sleep(SAMPLE_SECONDS)


def _probe(url: str, table: str, done: threading.Event) -> None:
    """A writer of `table`: takes the lock INSERT and UPDATE take, over and over, until `done`."""
    with psycopg.connect(url, autocommit=True) as conn:
        statement = f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE".encode()
        while not done.is_set():
            try:
                with conn.transaction():
                    conn.execute(statement)
            except psycopg.Error:  # the table was dropped or renamed by the rehearsal: stop probing it
                return
            time.sleep(PROBE_PAUSE)


def plan_units(plan: Plan) -> list[Unit]:
    """The plan's statements grouped as `api.apply` runs them: transactional ones together, up to
    the next one that runs alone or the next `SET LOCAL lock_timeout` of an online plan. Each is
    labelled by its place in the plan."""
    units: list[Unit] = []
    batch: list[tuple[str, str]] = []
    for n, st in enumerate(plan.statements, 1):
        if batch and (not st.transactional or starts_transaction(st)):
            units.append(Unit(tuple(batch), True))
            batch = []
        if st.transactional:
            batch.append((str(n), st.sql))
        else:
            units.append(Unit(((str(n), st.sql),), False))
    if batch:
        units.append(Unit(tuple(batch), True))
    return units
