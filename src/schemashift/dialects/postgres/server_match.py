"""Which binaries load the sources that are compared with a live database.

PostgreSQL's catalogs print the same schema differently across major versions: PostgreSQL 17 added
the MAINTAIN privilege (so a table's default ACL differs), 16 and 18 reformat view definitions.
A `.sql` file loaded into the embedded PostgreSQL 18 and compared with a PostgreSQL 15 database
would show those as differences. So when one side is a live database and the user named no
server, the scratch side is loaded by binaries of the live database's major version (Debian and
Ubuntu install each at /usr/lib/postgresql/N/bin); without them, a warning says what to pass.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import psycopg

from .servers import embedded_bin_dir
from .connection import URL_PREFIXES, connect

DEBIAN_BIN = "/usr/lib/postgresql/{major}/bin"


def is_live(source: object) -> bool:
    return isinstance(source, psycopg.Connection) or str(source).startswith(URL_PREFIXES)


def for_comparison(sources: Iterable[object], dev_url: str | None, pg_bin: str | None) -> str | None:
    """The `pg_bin` for comparing `sources`: matched to the live one when exactly one is live."""
    live = [s for s in sources if is_live(s)]
    return matching_pg_bin(live[0], dev_url, pg_bin) if len(live) == 1 else pg_bin


def matching_pg_bin(live: object, dev_url: str | None, pg_bin: str | None) -> str | None:
    """`pg_bin` as given; else, when the user chose no server, the binaries of the live database's
    major version if the embedded build is another; None for the default server."""
    if pg_bin or dev_url or os.environ.get("SCHEMASHIFT_DEV_URL") or os.environ.get("SCHEMASHIFT_PG_BIN"):
        return pg_bin
    major = _major_of(live)
    if major == embedded_major():
        return None
    candidate = Path(DEBIAN_BIN.format(major=major))
    if (candidate / "postgres").exists():
        return str(candidate)
    print(f"schemashift: warning: comparing a PostgreSQL {major} database with sources loaded into PostgreSQL "
          f"{embedded_major()}; version-only differences may show (pass --pg-bin with PostgreSQL {major}'s binaries)",
          file=sys.stderr)
    return None


def _major_of(source: object) -> int:
    if isinstance(source, psycopg.Connection):
        return source.info.server_version // 10000
    with connect(str(source)) as conn:
        return conn.info.server_version // 10000


@functools.cache
def embedded_major() -> int:
    """The embedded build's major version, from `postgres --version` (no server started)."""
    out = subprocess.run([str(embedded_bin_dir() / "postgres"), "--version"], capture_output=True, text=True).stdout
    return int(out.split()[-1].split(".")[0])
