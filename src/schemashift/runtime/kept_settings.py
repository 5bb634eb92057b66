"""Where the things kept between calls (servers, warm processes) live, and how long they may idle.

Read by every call before anything else is imported, so it imports nothing heavier than `os`.
"""

from __future__ import annotations

import os

DEFAULT_IDLE_MINUTES = 10.0
IDLE_ENV = "SCHEMASHIFT_SERVER_IDLE"


def idle_minutes() -> float:
    """Minutes a kept server or warm process may stay unused ($SCHEMASHIFT_SERVER_IDLE); 0 means
    none is kept."""
    text = os.environ.get(IDLE_ENV, "")
    try:
        value = float(text) if text else DEFAULT_IDLE_MINUTES
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e6:  # also rejects inf and nan
        from ..errors import ServerError

        raise ServerError(f"{IDLE_ENV} must be a number of minutes (0 for no kept server), not {text!r}")
    return value


def recorded_pid(pid_file: str | os.PathLike[str], marker: bytes) -> int | None:
    """The pid written in `pid_file`, if that process is alive and its command line names `marker`
    (a pid can be reused by an unrelated process once the recorded one is gone)."""
    try:
        with open(pid_file) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return pid if marker in f.read() else None
    except (OSError, ValueError):
        return None


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "schemashift")
