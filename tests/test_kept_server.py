"""The server kept between CLI calls (schemashift.runtime.keeper), each test with its own cache folder:
reused by the next process, stopped by `server stop` and by its idle watchdog, started once by
concurrent callers, recovered after a crash left a stale pid file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemashift.runtime import keeper, kept_settings


class Cache:
    """A private cache folder, and the CLI run as real processes with it."""

    def __init__(self, path: Path, idle_minutes: str = "5") -> None:
        self.path = path
        self.env = {**os.environ, "XDG_CACHE_HOME": str(path), kept_settings.IDLE_ENV: idle_minutes}

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "schemashift", *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "schemashift", *args], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc

    @property
    def data(self) -> Path:
        homes = list((self.path / "schemashift").glob("server-*"))
        assert len(homes) == 1, homes
        return homes[0] / "data"

    def postmaster(self) -> int | None:
        return keeper.postmaster_pid(self.data)

    def postmasters(self) -> list[int]:
        """Every PostgreSQL postmaster running on this cache's data directory."""
        found = []
        for proc in Path("/proc").iterdir():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if proc.name.isdigit() and argv[0].endswith(b"postgres") and str(self.data).encode() in argv:
                found.append(int(proc.name))
        return found


@pytest.fixture
def make_cache() -> Iterator[Callable[[str], Cache]]:
    """`make_cache(idle_minutes)`; each one's server is stopped and its folder removed afterwards."""
    made: list[Cache] = []

    def make(idle_minutes: str = "5") -> Cache:
        # Not pytest's tmp_path: as root the server runs as `nobody`, who must be able to enter it.
        path = Path(tempfile.mkdtemp(prefix="ss-cache-"))
        path.chmod(0o755)
        made.append(Cache(path, idle_minutes))
        return made[-1]

    yield make
    for cache in made:
        subprocess.run([sys.executable, "-m", "schemashift", "server", "stop"], env=cache.env, capture_output=True)
        shutil.rmtree(cache.path, ignore_errors=True)


@pytest.fixture
def cache(make_cache: Callable[[str], Cache]) -> Cache:
    return make_cache("5")


def test_second_call_reuses_the_server_and_stop_ends_it(cache):
    cache.run("diff", "empty", "empty")
    first = cache.postmaster()
    assert first is not None
    cache.run("diff", "empty", "empty")
    assert cache.postmaster() == first
    assert f"running (pid {first})" in cache.run("server", "status").stdout
    assert "stopped" in cache.run("server", "stop").stdout
    assert cache.postmaster() is None
    assert "stopped" in cache.run("server", "status").stdout
    assert not (cache.data.parent / keeper.WATCHDOG_PID).exists()


def test_concurrent_first_calls_start_one_server(cache):
    runs = [cache.spawn("diff", "empty", "empty") for _ in range(3)]
    for proc in runs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert cache.postmasters() == [cache.postmaster()]


def test_stale_pid_file_after_a_crash_is_recovered(cache):
    cache.run("diff", "empty", "empty")
    crashed = cache.postmaster()
    assert crashed is not None
    os.kill(crashed, 9)
    while cache.postmaster() == crashed:
        time.sleep(0.05)
    # The pid file and the socket's lock file now name a live process that is not PostgreSQL: this test.
    for lock_file in (cache.data / "postmaster.pid", cache.data.parent / ".s.PGSQL.5432.lock"):
        lines = lock_file.read_text().split("\n")
        lock_file.write_text("\n".join([str(os.getpid()), *lines[1:]]))
    cache.run("diff", "empty", "empty")
    assert cache.postmaster() not in (None, crashed)


def test_idle_server_is_stopped_by_its_watchdog(make_cache):
    cache = make_cache("0.02")  # 1.2 s
    cache.run("diff", "empty", "empty")
    deadline = time.monotonic() + 30
    while cache.postmaster() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache.postmaster() is None


def test_bad_idle_setting_is_one_line(cache):
    cache.env[kept_settings.IDLE_ENV] = "soon"
    proc = subprocess.run([sys.executable, "-m", "schemashift", "diff", "empty", "empty"], env=cache.env,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"schemashift: {kept_settings.IDLE_ENV} must be a number of minutes (0 for no kept server), not 'soon'"
