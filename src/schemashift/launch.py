"""The `schemashift` command: hand the call to the warm process (see warm), or run it here and
start one for the next call."""

from __future__ import annotations

import sys


def main() -> None:
    from . import warm

    # `server status|stop` look at warm processes: they neither run in one nor start one.
    path = warm.socket_path() if warm.enabled() and sys.argv[1:2] != ["server"] else None
    if path is not None:
        code = warm.call(path)
        if code is not None:
            sys.exit(code)
    try:
        from .cli import main as run_here

        run_here()
    finally:
        if path is not None:
            warm.start_detached()
