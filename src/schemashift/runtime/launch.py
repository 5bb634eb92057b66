"""The `schemashift` command: hand the call to the warm process (see warm), or run it here and
start one for the next call."""

from __future__ import annotations

import sys

from . import kept_settings


def _warm_processes_wanted() -> bool:
    """On Linux, unless $SCHEMASHIFT_SERVER_IDLE is 0 (or unreadable: the call then runs here and
    reports it). `server status|stop` look at warm processes: they neither run in one nor start one."""
    try:
        idle = kept_settings.idle_minutes()
    except Exception:  # noqa: BLE001 - reported by the call itself
        return False
    return idle > 0 and sys.platform.startswith("linux") and sys.argv[1:2] != ["server"]


def main() -> None:
    path = None
    if _warm_processes_wanted():
        from . import warm

        path = warm.socket_path()
        code = None if path is None else warm.call(path)
        if code is not None:
            sys.exit(code)
    try:
        from ..cli import main as run_here

        run_here()
    finally:
        if path is not None:
            try:
                warm.start_detached(path)
            except Exception:  # noqa: BLE001 - only the next call's speed depends on it
                pass


def serve_warm(path: str, idle_seconds: float) -> None:
    """The warm process's entry point (see warm.start_detached): serve calls of the CLI, and read
    the schemas they kept ahead for the next ones."""
    from .. import schema_cache
    from ..cli import main as run_here
    from . import warm

    warm.serve(path, idle_seconds, run_here, between=schema_cache.read_ahead)
