"""The kept server's home, lock, idle watchdog and stop: the parts that need no psycopg.

A kept server lives in `$XDG_CACHE_HOME/schemashift/server-<hash of its binaries' folder>` (or
`~/.cache/...`) and outlives the process that started it, so the next call skips initdb and start.
One file lock (`flock` on `home/lock`) coordinates everything:

- every schemashift process using the server holds it shared for its whole life, and touches it, so
  the lock's mtime is the last time the server was wanted;
- starting (and recovering from a crash) and stopping hold it exclusively, so two processes never
  start two servers on one data directory, and a server is never stopped under a running process.

The idle timeout is enforced by a detached watchdog process started with the server: it polls the
lock, and once it gets it exclusively and nothing has touched it for the idle time, it stops the
server and exits. `schemashift server stop` stops it at once (after running processes finish).

As root, PostgreSQL runs as `nobody`, which cannot enter a private home such as `/root`; then the
servers live under `/var/cache/schemashift/<hash of the cache folder>` instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .kept_settings import cache_dir, recorded_pid

LOCK = "lock"
WATCHDOG_PID = "watchdog.pid"
ROOT_FALLBACK = Path("/var/cache/schemashift")


def servers_dir() -> Path:
    """Where kept servers live: the cache, unless the unprivileged user root runs them as cannot enter it."""
    cache = Path(cache_dir())
    if os.geteuid() != 0 or _others_can_enter(cache.parent):
        return cache
    digest = hashlib.sha1(str(cache.resolve()).encode()).hexdigest()[:12]
    return ROOT_FALLBACK / digest


def _others_can_enter(folder: Path) -> bool:
    """Whether every folder from `/` down to `folder` exists and lets other users through."""
    path = folder.resolve()
    for part in [path, *path.parents]:
        try:
            if not os.stat(part).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def home_for(bin_dir: Path) -> Path:
    digest = hashlib.sha1(str(Path(bin_dir).resolve()).encode()).hexdigest()[:12]
    return servers_dir() / f"server-{digest}"


def homes() -> list[Path]:
    """Every kept server's home in this user's cache, running or not."""
    return sorted(p for p in servers_dir().glob("server-*") if (p / LOCK).exists())


def ram_folder(home: Path) -> Path:
    """Where the server in `home` keeps scratch databases when RAM allows (see servers)."""
    digest = hashlib.sha1(str(home).encode()).hexdigest()[:12]
    return Path("/dev/shm") / f"schemashift-{os.geteuid()}-{digest}"


def open_lock(home: Path) -> int:
    return os.open(home / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def share(fd: int) -> None:
    """Hold the lock shared and mark the server as just used."""
    fcntl.flock(fd, fcntl.LOCK_SH)
    os.utime(fd)


@contextlib.contextmanager
def exclusive(fd: int) -> Iterator[None]:
    """Hold the lock exclusively, then go back to shared (flock converts; never both at once)."""
    fcntl.flock(fd, fcntl.LOCK_UN)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        share(fd)


def postmaster_pid(data: Path) -> int | None:
    """The pid in `postmaster.pid` if that process is alive and is PostgreSQL, else None."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"postgres" in cmdline.split(b"\0", 1)[0] else None


def stop_postmaster(data: Path, how: signal.Signals = signal.SIGINT, timeout: float = 10.0) -> bool:
    """Shut down (fast by default), then SIGKILL if it lingers; whether a server was running."""
    pid = postmaster_pid(data)
    if pid is None:
        return False
    for sig, wait in ((how, timeout), (signal.SIGKILL, timeout)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while postmaster_pid(data) == pid and time.monotonic() < deadline:
            time.sleep(0.02)
        if postmaster_pid(data) != pid:
            break
    return True


def stop(home: Path) -> bool:
    """Stop the server in `home` now (waiting for running schemashift processes) and its watchdog."""
    fd = open_lock(home)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _end_watchdog(home)
        return _shut_down(home)
    finally:
        os.close(fd)


def _shut_down(home: Path) -> bool:
    """Stop the server and free the RAM its scratch databases used; whether it was running."""
    stopped = stop_postmaster(home / "data")
    shutil.rmtree(ram_folder(home), ignore_errors=True)
    return stopped


def start_watchdog(home: Path, idle_seconds: float) -> None:
    """A detached process that stops the server once it has been idle for `idle_seconds`."""
    _end_watchdog(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemashift.runtime.keeper", str(home), str(idle_seconds)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, env={**os.environ, "PYTHONPATH": _package_parent()},
    )
    (home / WATCHDOG_PID).write_text(str(proc.pid))
    proc.returncode = 0  # never waited for: it outlives us (keeps Popen.__del__ quiet)


def _package_parent() -> str:
    parent = str(Path(__file__).resolve().parent.parent)
    current = os.environ.get("PYTHONPATH")
    return f"{parent}{os.pathsep}{current}" if current else parent


def _end_watchdog(home: Path) -> None:
    path = home / WATCHDOG_PID
    pid = recorded_pid(path, b"schemashift.runtime.keeper")
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    path.unlink(missing_ok=True)


def watch(home: Path, idle_seconds: float) -> None:
    """The watchdog's loop: a server wanted by a live process (shared lock held) or used within
    `idle_seconds` (the lock's mtime) keeps running; otherwise stop it and exit. Exits as well when
    the server is gone (stopped by `server stop`, or crashed: the next user recovers it)."""
    data = home / "data"
    fd = open_lock(home)
    poll = min(max(idle_seconds / 10, 0.2), 15.0)
    busy_at = time.time()
    while postmaster_pid(data) is not None:
        time.sleep(poll)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy_at = time.time()
            continue
        try:
            if time.time() - max(busy_at, os.fstat(fd).st_mtime) >= idle_seconds:
                _shut_down(home)
                (home / WATCHDOG_PID).unlink(missing_ok=True)
                return
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    watch(Path(sys.argv[1]), float(sys.argv[2]))
