"""Where MySQL scratch databases live: a throwaway `mariadbd` from the machine's packages, or the
server a `--dev-url` names.

The throwaway server runs from a temporary folder as an unprivileged user (`nobody` when we are
root: mariadbd drops to it itself), listens on 127.0.0.1 and a socket, and trades durability for
speed (no binary log, no fsync per commit, no doublewrite). Scratch databases are created and
dropped on it; it is stopped with the process.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote as quote_url
from urllib.parse import unquote, urlsplit

import pymysql

from ...errors import ServerError, SourceError
from .sqltext import quote

SERVER_BINARIES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld", "mariadbd", "mysqld")
INSTALL_DB = ("mariadb-install-db", "mysql_install_db")
UNPRIVILEGED = "nobody"
NO_SERVER = ("no MariaDB/MySQL server binary (mariadbd or mysqld) found: install Debian's package"
             " `mariadb-server`, or pass --dev-url mysql://user@host/ to use a server you run")


@dataclass(frozen=True)
class Target:
    """How to reach one server (and, for a database URL, which database)."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = field(default="", repr=False)
    unix_socket: str | None = None
    database: str | None = None

    def connect(self, database: str | None = None, **kw: object) -> pymysql.connections.Connection:
        """A PyMySQL connection, utf8mb4, autocommit (DDL commits anyway)."""
        args: dict = dict(user=self.user, password=self.password, database=database or self.database,
                          charset="utf8mb4", autocommit=True, connect_timeout=10)
        args |= {"unix_socket": self.unix_socket} if self.unix_socket else {"host": self.host, "port": self.port}
        if self.unix_socket or self.host in ("127.0.0.1", "localhost", "::1"):
            args["ssl_disabled"] = True  # PyMySQL would build a TLS context per connection (~60 ms)
        try:
            return pymysql.connect(**(args | kw))
        except pymysql.err.OperationalError as exc:
            raise SourceError(f"cannot connect to MySQL at {self.where()}: {exc.args[-1]}") from None

    def where(self) -> str:
        """The server's address for messages (never the password)."""
        return self.unix_socket or f"{self.user}@{self.host}:{self.port}"

    def url(self, database: str) -> str:
        """A `mysql://` URL of `database` on this server (what sources hand around)."""
        auth = quote_url(self.user, safe="") + (":" + quote_url(self.password, safe="") if self.password else "")
        where = f"{self.host}:{self.port}"
        socket_part = f"?unix_socket={quote_url(self.unix_socket, safe='/')}" if self.unix_socket else ""
        return f"mysql://{auth}@{where}/{quote_url(database, safe='')}{socket_part}"

    def client_args(self, database: str) -> list[str]:
        """Arguments for the `mariadb` command-line client (the password goes by environment)."""
        where = [f"--socket={self.unix_socket}"] if self.unix_socket else [f"--host={self.host}", f"--port={self.port}"]
        return ["--no-defaults", *where, f"--user={self.user}", database]


def run(cur: pymysql.cursors.Cursor, statement: str, args: list[object] | None = None) -> list[tuple]:
    """Run one statement and read everything it returns (a CALL's further result sets too), so the
    cursor is free for the next."""
    cur.execute(statement, args)
    found = list(cur.fetchall() or ())
    while cur.nextset():
        pass
    return found


def server_message(exc: pymysql.err.MySQLError) -> str:
    """The server's own text of an error, without PyMySQL's error-code tuple around it."""
    return str(exc.args[-1]) if exc.args else str(exc)


def parse_url(url: str) -> Target:
    """`mysql://user:pw@host:port/db` (also `mariadb://`, `mysql+pymysql://`, `?unix_socket=`)."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("mysql", "mariadb"):
        raise SourceError(f"not a MySQL URL: {url}")
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    socket_path = unquote(query["unix_socket"]) if "unix_socket" in query else None
    return Target(host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=unquote(parts.username or "root"),
                  password=unquote(parts.password or ""), unix_socket=socket_path,
                  database=unquote(parts.path.lstrip("/")) or None)


def find_server_binary() -> str:
    for name in SERVER_BINARIES:
        found = shutil.which(name) or (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    raise ServerError(NO_SERVER)


@dataclass
class Scratch:
    """Scratch databases on one server: created with a unique name, dropped by `drop`."""

    target: Target

    def create(self) -> str:
        name = f"ss_{uuid.uuid4().hex[:16]}"
        with self.target.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {quote(name)}")
        return name

    def drop(self, name: str) -> None:
        with self.target.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote(name)}")


@dataclass
class ThrowawayServer(Scratch):
    """A mariadbd started by us in `folder`; `stop` ends it and removes the folder."""

    folder: Path = Path()
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _install_db() -> str:
    for name in INSTALL_DB:
        if found := shutil.which(name):
            return found
    raise ServerError(NO_SERVER)


def start_server() -> ThrowawayServer:
    """initdb-like `mariadb-install-db` into a fresh folder, then mariadbd on a free port."""
    binary, install = find_server_binary(), _install_db()
    folder = Path(tempfile.mkdtemp(prefix="schemashift-mariadb-"))
    user = UNPRIVILEGED if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        folder.chmod(0o755)
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, sock, port, tmp = folder / "data", folder / "sock", _free_port(), folder / "tmp"
    tmp.mkdir()
    if os.geteuid() == 0:
        os.chown(tmp, entry.pw_uid, entry.pw_gid)
    run = subprocess.run([install, "--no-defaults", f"--datadir={data}", f"--user={user}",
                          "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServerError(f"mariadb-install-db failed: {(run.stderr or run.stdout).strip().splitlines()[-1:]}")
    process = subprocess.Popen(
        [binary, "--no-defaults", f"--datadir={data}", f"--user={user}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--socket={sock}", f"--pid-file={folder / 'pid'}",
         f"--log-error={folder / 'error.log'}", f"--tmpdir={tmp}", "--skip-log-bin", "--skip-name-resolve",
         "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-frm=0",
         "--innodb-buffer-pool-size=64M", "--character-set-server=utf8mb4",
         "--collation-server=utf8mb4_general_ci", "--event-scheduler=OFF"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server = ThrowawayServer(Target(user="root", unix_socket=str(sock), port=port), folder, process)
    _wait_ready(server)
    return server


def _wait_ready(server: ThrowawayServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            log = (server.folder / "error.log")
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            server.stop()
            raise ServerError(f"mariadbd exited at start: {' '.join(tail)}")
        try:
            server.target.connect(connect_timeout=1).close()
            return
        except SourceError:
            time.sleep(0.05)
    server.stop()
    raise ServerError(f"mariadbd did not accept connections within {timeout:.0f} s")


# Settings of the server that change how a loaded schema reads back (defaults, names, types).
_IDENTITY = "SELECT CONCAT_WS(' ', VERSION(), @@sql_mode, @@character_set_server, @@collation_server, " \
            "@@lower_case_table_names, @@explicit_defaults_for_timestamp)"


def scratch_identity(dev_url: str | None) -> str:
    """The scratch server's version and schema-shaping settings: asked of the `dev_url` server,
    else read from the binary the throwaway server would run (its settings are ours, fixed)."""
    if dev_url:
        with parse_url(dev_url).connect() as conn, conn.cursor() as cur:
            cur.execute(_IDENTITY)
            return str(cur.fetchone()[0])
    binary = find_server_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{version} throwaway"


_lock = threading.Lock()
_shared: ThrowawayServer | None = None


def get_server(dev_url: str | None = None) -> Scratch:
    """The server for scratch databases: `dev_url`'s, else this process's throwaway mariadbd."""
    global _shared
    if dev_url:
        return Scratch(parse_url(dev_url))
    with _lock:
        if _shared is None:
            _shared = start_server()
            atexit.register(_shared.stop)
        return _shared
