"""`schemashift diff a.sql b.sql` as a user runs it, cold and warm, for Chinook and GitLab.

- throwaway: $SCHEMASHIFT_SERVER_IDLE=0, a server initialised and started for this call only (what
  every call cost before servers were kept);
- cold, empty cache: the first call ever: initdb into the cache, start, diff;
- cold, stopped: the kept server was stopped (idle timeout or `server stop`): start, diff;
- warm: the kept server and the warm process (schemashift already imported, see schemashift.runtime.warm)
  are up: connect, diff. The call before it started them; the bench waits until the warm process
  listens, as it would be after a user's pause between two calls.

Each case runs the console script as a new process with a cache folder of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CASES = ("throwaway", "cold_empty_cache", "cold_stopped", "warm")


def _cache() -> Path:
    path = Path(tempfile.mkdtemp(prefix="ss-bench-cache-"))
    path.chmod(0o755)  # as root the server runs as nobody, who must be able to enter it
    return path


def diff_timings(schemashift: Path, a: Path, b: Path, runs: int, env: dict[str, str],
                 extra: tuple[str, ...] = ()) -> dict[str, object]:
    """Median wall seconds of each case; every call must print a plan (exit 2)."""
    command = [str(schemashift), "diff", "--unsafe", *extra, str(a), str(b)]
    walls: dict[str, list[float]] = {case: [] for case in CASES}
    caches = []

    def call(cache: Path, case: str | None, idle: str = "10") -> None:
        start = time.perf_counter()
        proc = subprocess.run(command, env={**env, "XDG_CACHE_HOME": str(cache), "SCHEMASHIFT_SERVER_IDLE": idle},
                              capture_output=True, text=True)
        if case:
            walls[case].append(time.perf_counter() - start)
        if proc.returncode != 2:
            raise SystemExit(f"bench: {' '.join(command)} exited {proc.returncode}: {proc.stderr.strip()}")

    def stop(cache: Path) -> None:
        subprocess.run([str(schemashift), "server", "stop"], env={**env, "XDG_CACHE_HOME": str(cache)},
                       capture_output=True, check=True)

    try:
        for _ in range(runs):
            cache = _cache()
            caches.append(cache)
            call(cache, "throwaway", idle="0")
            call(cache, "cold_empty_cache")
            wait_warm(cache)
            call(cache, "warm")
            stop(cache)
            call(cache, "cold_stopped")
            wait_warm(cache)
            call(cache, "warm")
            stop(cache)
    finally:
        for cache in caches:
            stop(cache)
            shutil.rmtree(cache, ignore_errors=True)
    return {"runs": runs, "seconds": {case: statistics.median(w) for case, w in walls.items()},
            "all_seconds": walls}


def wait_warm(cache: Path) -> None:
    """Until the warm process started by the last call in `cache` listens."""
    deadline = time.monotonic() + 30
    while not list((cache / "schemashift" / "warm").glob("*.sock")):
        if time.monotonic() > deadline:
            raise SystemExit("bench: no warm process started")
        time.sleep(0.05)


@contextlib.contextmanager
def user_envs(schemashift: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """A user's environment, warm processes on, with a cache folder of its own; and the same with
    warm processes (and kept servers) off. Whatever it started is stopped afterwards."""
    cache = _cache()
    env = {**child_env(), "XDG_CACHE_HOME": str(cache)}
    try:
        yield env, {**env, "SCHEMASHIFT_SERVER_IDLE": "0"}
    finally:
        subprocess.run([str(schemashift), "server", "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(cache, ignore_errors=True)


def child_env() -> dict[str, str]:
    """The environment a user has: bytecode caches written and used."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "SCHEMASHIFT_SERVER_IDLE")}
