"""Fault injectors for the migration runner, shared by the test suite (tests/migrations/test_faults.py)
and the benchmark-style script (bench/faults.py), so both hammer the same promises the same way.

Each injector runs a real `schemashift up` process against a fresh database of a real server on
127.0.0.1, breaks it at a chosen point, then judges what is left by inspection:

- the folder's migrations each insert their version into `faults.ledger` (no unique key: a
  migration applied twice shows as two rows) and pass through *gates*, `SELECT faults.gate(n)`,
  which take a shared advisory lock. The injector holds the exclusive lock of one gate, waits until
  pg_locks shows the run blocked there (so the fault hits a known statement of a known migration,
  not a moment), then injects the fault: `kill -9`, `pg_ctl stop -m immediate`, or closing the TCP
  proxy the run connects through. A `kill -9` can also come after a random delay instead, which
  lands anywhere: in start-up, taking the lock, between statements, in a COMMIT.
- consistent: the history's applied versions are 1..head, the ledger holds exactly those, and the
  schema equals the schema of the folder replayed up to head (inspected once per head).
- after the next `up`: every version in the ledger exactly once (lost = missing, twice = extra).
"""

from __future__ import annotations

import contextlib
import os
import random
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

import schemashift
from schemashift.dialects.postgres import servers
from schemashift.runtime import keeper
from schemashift.migrations import checksum
from schemashift.migrations.files import read_folder
from schemashift.dialects.postgres.history_sql import PgHistoryTable
from schemashift.migrations.replay import replay

HISTORY = "faults.history"  # in the schema the comparisons leave out, beside the ledger
GATE_CLASS = 7777  # the first key of every gate's two-key advisory lock (the run lock uses one bigint key)
TEMPLATE = "faults_template"
TEMPLATE_SQL = f"""
CREATE SCHEMA faults;
CREATE TABLE faults.ledger (version int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION faults.gate(n int) RETURNS void LANGUAGE sql AS 'SELECT pg_advisory_xact_lock_shared({GATE_CLASS}, n)';
"""
GATES_PER_MIGRATION = 3
WAIT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FaultServer:
    """A cluster of its own listening on 127.0.0.1 (password required there, trust on its socket),
    which a fault may stop with `pg_ctl stop -m immediate` and start again."""

    def __init__(self, bin_dir: str | os.PathLike[str], superuser_password: str = "faults-admin") -> None:
        self.bin_dir = servers._usable_bin_dir(Path(bin_dir))
        self.home = Path(tempfile.mkdtemp(prefix="schemashift-faults-"))
        servers._give_to_server_user(self.home)
        self.data = self.home / "data"
        self.port = free_port()
        servers._initdb(self.bin_dir, self.data)
        hba = self.data / "pg_hba.conf"
        hba.write_text("".join(line.replace("trust", "scram-sha-256") if line.startswith("host") else line
                               for line in hba.read_text().splitlines(keepends=True)))
        self.start()
        self.admin_url = (f"postgresql://postgres@/postgres?host={quote(str(self.home), safe='/')}"
                          f"&port={self.port}")
        with self.admin() as conn:
            conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(superuser_password)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
            conn.execute(TEMPLATE_SQL)
        self.superuser_password = superuser_password

    @property
    def major_version(self) -> int:
        with self.admin() as conn:
            return conn.info.server_version // 10000

    def start(self) -> None:
        settings = {**servers.THROWAWAY_SETTINGS, "listen_addresses": "127.0.0.1", "port": str(self.port)}
        servers._start(self.bin_dir, self.home, settings)

    def stop_immediate(self) -> None:
        """What a power cut does to the server's processes: no checkpoint, crash recovery at start."""
        servers._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                     "pg_ctl stop -m immediate")

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_url, autocommit=True)

    def url(self, dbname: str) -> str:
        """Over the socket, as the superuser: for the injector's own looking."""
        return servers.url_with_database(self.admin_url, dbname)

    def tcp_url(self, dbname: str, user: str = "postgres", password: str | None = None,
                port: int | None = None) -> str:
        """Over TCP on 127.0.0.1 (or a proxy's port), with the password in the URL."""
        secret = quote(password if password is not None else self.superuser_password, safe="")
        return f"postgresql://{quote(user, safe='')}:{secret}@127.0.0.1:{port or self.port}/{quote(dbname, safe='')}"

    @contextlib.contextmanager
    def fresh_database(self, template: str = TEMPLATE) -> Iterator[str]:
        """A new database from the template (ledger and gates in it), dropped afterwards; its name."""
        name = f"faults_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            for attempt in range(100):  # a template's last session may still be ending
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                                  sql.Identifier(template)))
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 99:
                        raise
                    time.sleep(0.05)
        try:
            yield name
        finally:
            with self.admin() as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        keeper.stop_postmaster(self.data, signal.SIGQUIT)
        shutil.rmtree(self.home, ignore_errors=True)


def write_folder(path: Path, count: int) -> Path:
    """`count` transactional migrations, each with gates between its statements; a later one also
    alters the table of the one before, so the schema at each head is distinct."""
    path.mkdir(parents=True, exist_ok=True)
    for k in range(1, count + 1):
        gate = [f"SELECT faults.gate({gate_key(k, s)});" for s in range(1, GATES_PER_MIGRATION + 1)]
        up = [f'CREATE TABLE "t{k}" (id int PRIMARY KEY, v text);', gate[0],
              f'INSERT INTO "t{k}" SELECT g, md5(g::text) FROM generate_series(1, 100) g;',
              f'CREATE INDEX "t{k}_v" ON "t{k}" (v);', gate[1],
              f"INSERT INTO faults.ledger (version) VALUES ({k});", gate[2]]
        down = [f"DELETE FROM faults.ledger WHERE version = {k};", f'DROP TABLE "t{k}";']
        if k > 1:
            up.insert(4, f'ALTER TABLE "t{k - 1}" ADD COLUMN "c{k}" int DEFAULT {k};')
            down.insert(0, f'ALTER TABLE "t{k - 1}" DROP COLUMN "c{k}";')
        body = "-- schemashift:up\n" + "\n".join(up) + "\n-- schemashift:down\n" + "\n".join(down) + "\n"
        (path / f"{k:04d}_m{k}.sql").write_text(body)
    checksum.write(path, read_folder(path))
    return path


def gate_key(version: int, statement: int) -> int:
    return version * 10 + statement


def schema_of(url: str) -> object:
    """What the comparisons see: the schema without the injector's own `faults` schema."""
    return schemashift.inspect(url, exclude_schemas=["faults"])


def expected_schemas(server: FaultServer, folder: Path) -> dict[int, object]:
    """The schema at each head 0..N, by replaying the folder one migration further each time."""
    count = len(read_folder(folder))
    with server.fresh_database() as name:
        url = server.url(name)
        found = {0: schema_of(url)}
        for head in range(1, count + 1):
            replay(url, folder, head, history_table=HISTORY)
            found[head] = schema_of(url)
    return found


@dataclass
class Tally:
    """What the faults of one kind did, summed over runs."""

    runs: int = 0
    lost: int = 0  # migrations missing from the ledger after the resuming `up`
    twice: int = 0  # extra ledger rows: a migration whose statements ran twice
    half: int = 0  # runs where history, ledger and schema disagreed after the fault
    bad_exits: int = 0  # a broken run that did not exit 1 with one stderr line, or a resume that failed
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.runs += other.runs
        self.lost += other.lost
        self.twice += other.twice
        self.half += other.half
        self.bad_exits += other.bad_exits
        self.notes += other.notes

    @property
    def clean(self) -> bool:
        return not (self.lost or self.twice or self.half or self.bad_exits)


@dataclass
class Target:
    """One server, the folder, and the schema at each head."""

    server: FaultServer
    folder: Path
    expected: dict[int, object]

    @classmethod
    def make(cls, server: FaultServer, folder: Path) -> Target:
        return cls(server, folder, expected_schemas(server, folder))

    @property
    def count(self) -> int:
        return len(self.expected) - 1


def _clean_env() -> dict[str, str]:
    """A user's environment, with no warm process: the process that is killed is the one that runs."""
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SCHEMASHIFT_")} \
        | {"SCHEMASHIFT_SERVER_IDLE": "0"}


def spawn_up(url: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "schemashift", "up", "--url", url, "--migrations", str(folder),
         "--history-table", HISTORY, "--lock-timeout", str(WAIT_SECONDS)],
        env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def resume_up(url: str, folder: Path) -> tuple[int, str]:
    """The next `up`, in this process (the CLI as a user calls it, without a process's start-up)."""
    from click.testing import CliRunner

    from schemashift.cli import cli

    result = CliRunner().invoke(cli, ["up", "--url", url, "--migrations", str(folder), "--history-table", HISTORY,
                                      "--lock-timeout", str(WAIT_SECONDS)], catch_exceptions=False)
    return result.exit_code, result.stderr


@contextlib.contextmanager
def held_gate(url: str, key: int) -> Iterator[psycopg.Connection]:
    """Hold a gate shut; it opens when the block ends (or the connection dies with the server)."""
    conn = psycopg.connect(url, autocommit=True)
    try:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", [GATE_CLASS, key])
        yield conn
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.close()


def wait_at_gate(conn: psycopg.Connection, key: int, proc: subprocess.Popen[str]) -> None:
    """Until the run is blocked at the gate (pg_locks shows its waiting request)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                           "AND classid::bigint = %s AND objid::bigint = %s", [GATE_CLASS, key]).fetchone()
        if row and row[0]:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before gate {key}: {proc.communicate()}")
        time.sleep(0.005)
    raise AssertionError(f"the run never reached gate {key}")


def wait_for_backends_gone(server: FaultServer, name: str) -> None:
    """Until no session but ours is in the database: a killed client's backend may still be finishing
    what it had received, and its run lock goes only with it."""
    deadline = time.monotonic() + WAIT_SECONDS
    with server.admin() as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                               [name]).fetchone()
            if row and not row[0]:
                return
            time.sleep(0.01)
    raise AssertionError(f"sessions still in {name}")


def judge(target: Target, name: str, *, finished: bool) -> Tally:
    """One run's tally: `finished` after the resuming `up` (everything must be there), else right
    after the fault (whatever is there must be whole)."""
    url = target.server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        counts = dict(conn.execute("SELECT version, count(*) FROM faults.ledger GROUP BY 1").fetchall())
        applied = set(PgHistoryTable.parse(HISTORY).state(conn).applied)
    head = max(applied, default=0)
    tally = Tally()
    tally.twice = sum(n - 1 for n in counts.values())
    whole = applied == set(range(1, head + 1)) == set(counts) and schema_of(url) == target.expected[head]
    if not whole:
        tally.half = 1
        tally.notes.append(f"{name}: history {sorted(applied)}, ledger {counts}")
    if finished:
        tally.lost = sum(1 for v in range(1, target.count + 1) if v not in counts)
    return tally


def _one_line_error(code: int, err: str) -> bool:
    lines = err.strip().splitlines()
    return code == 1 and len(lines) == 1 and lines[0].startswith("schemashift: ") and "Traceback" not in err


def _resume_and_judge(target: Target, name: str, tally: Tally) -> Tally:
    wait_for_backends_gone(target.server, name)
    tally.add(judge(target, name, finished=False))
    code, err = resume_up(target.server.url(name), target.folder)
    if code != 0:
        tally.bad_exits += 1
        tally.notes.append(f"{name}: the resuming up failed: {err.strip()}")
    tally.add(judge(target, name, finished=True))
    tally.runs = 1
    return tally


def random_gate(rng: random.Random, count: int) -> int:
    """A random statement of a random migration."""
    return gate_key(rng.randint(1, count), rng.randint(1, GATES_PER_MIGRATION))


def kill_9(target: Target, rng: random.Random, delay_span: float) -> Tally:
    """`kill -9` of `up` at a random gate, or (one run in two) after a random delay of up to
    `delay_span` seconds; then the next `up` must finish, each migration once."""
    with target.server.fresh_database() as name:
        url = target.server.url(name)
        tally = Tally()
        if rng.random() < 0.5:
            key = random_gate(rng, target.count)
            with held_gate(url, key) as gate:
                proc = spawn_up(url, target.folder)
                wait_at_gate(gate, key, proc)
                proc.kill()
                proc.communicate()
        else:
            proc = spawn_up(url, target.folder)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(rng.uniform(0, delay_span))
            proc.kill()
            proc.communicate()
        return _resume_and_judge(target, name, tally)


def _broken_run(target: Target, rng: random.Random, connect_port: int | None, break_it) -> Tally:
    """A run stopped at a random gate by `break_it()`: it must exit 1 with one line, leave nothing
    half-applied, and the next `up` must finish."""
    with target.server.fresh_database() as name:
        key = random_gate(rng, target.count)
        tally = Tally()
        with held_gate(target.server.url(name), key) as gate:
            proc = spawn_up(target.server.tcp_url(name, port=connect_port), target.folder)
            wait_at_gate(gate, key, proc)
            break_it()
            try:
                code = proc.wait(WAIT_SECONDS)
            finally:
                if proc.poll() is None:
                    proc.kill()
            _, err = proc.communicate()
        if not (_one_line_error(code, err) and "connection" in err):  # says what happened, too
            tally.bad_exits += 1
            tally.notes.append(f"{name}: exit {code}, stderr {err!r}")
        return _resume_and_judge(target, name, tally)


def server_stop(target: Target, rng: random.Random) -> Tally:
    """`pg_ctl stop -m immediate` while `up` is at a random gate, then start."""

    def crash() -> None:
        target.server.stop_immediate()
        target.server.start()

    return _broken_run(target, rng, None, crash)


def connection_cut(target: Target, rng: random.Random) -> Tally:
    """The connection closed under `up` at a random gate, by the TCP proxy it connects through."""
    with Proxy(target.server.port) as proxy:
        return _broken_run(target, rng, proxy.port, proxy.cut)


def concurrent(target: Target, deployers: int = 8) -> Tally:
    """`deployers` `up` processes started together on a fresh database: all succeed, each migration once."""
    with target.server.fresh_database() as name:
        url = target.server.url(name)
        procs = [spawn_up(url, target.folder) for _ in range(deployers)]
        tally = Tally(runs=1)
        for proc in procs:
            code = proc.wait(WAIT_SECONDS * 2)
            _, err = proc.communicate()
            if code != 0:
                tally.bad_exits += 1
                tally.notes.append(f"{name}: a deployer exited {code}: {err.strip()}")
        tally.add(judge(target, name, finished=True))
        return tally


class Proxy:
    """A TCP forwarder on 127.0.0.1 to a server's port; `cut()` closes every connection through it,
    as a dropped network link or a restarted load balancer would."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(a, selectors.EVENT_READ, b)
        selector.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()

    def cut(self) -> None:
        with self._lock:
            cut, self._sockets = self._sockets, []
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def median_up_seconds(target: Target, runs: int = 3) -> float:
    """How long an unhindered `up` process takes here: the span random-delay kills are drawn from."""
    times = []
    for _ in range(runs):
        with target.server.fresh_database() as name:
            started = time.monotonic()
            proc = spawn_up(target.server.url(name), target.folder)
            proc.communicate(timeout=WAIT_SECONDS)
            times.append(time.monotonic() - started)
    return sorted(times)[len(times) // 2]
