"""The server major version the linter judges for: `--pg-version`, else the server a command would
use for scratch databases (`--dev-url`, `--pg-bin`, their environment variables), else the embedded
build's, read from its binaries without starting it."""

from __future__ import annotations

import os

from ....errors import SchemashiftError

SUPPORTED = range(15, 19)


def target_major(pg_version: int | None, dev_url: str | None, pg_bin: str | None) -> int:
    if pg_version is not None:
        major = pg_version
    elif dev_url or os.environ.get("SCHEMASHIFT_DEV_URL") or pg_bin or os.environ.get("SCHEMASHIFT_PG_BIN"):
        from ..servers import get_server

        major = get_server(dev_url, pg_bin).major_version
    else:
        from ..server_match import embedded_major

        major = embedded_major()
    if major not in SUPPORTED:
        raise SchemashiftError(f"lint knows PostgreSQL {SUPPORTED[0]}-{SUPPORTED[-1]}, not {major} "
                               "(pass --pg-version)")
    return major
