"""`up --backup FILE`: a pg_dump of the database before any migration touches it.

pg_dump must be the server's own major version (an older one refuses a newer server, a newer one
writes dumps an older server may not restore), so it is looked for by version: `--pg-bin`, the
embedded build, Debian's /usr/lib/postgresql/N/bin, then PATH. The password goes to pg_dump in its
environment, never on its command line, where other users could read it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ...errors import SchemashiftError
from .servers import embedded_bin_dir
from ...urls import normalize_url

_VERSION = re.compile(r"\b(\d+)(?:\.\d+)*")


def backup(conn: psycopg.Connection, url: str, path: Path, pg_bin: str | None) -> None:
    """Dump the database at `url` to `path`: plain SQL for `.sql`, else pg_dump's custom format."""
    pg_dump = find_pg_dump(conn.info.server_version // 10000, pg_bin)
    params = conninfo_to_dict(normalize_url(url))
    password = params.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    fmt = "plain" if path.suffix.lower() == ".sql" else "custom"
    proc = subprocess.run([str(pg_dump), f"--format={fmt}", f"--file={path}", make_conninfo(**params)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise SchemashiftError(f"backup failed, nothing applied: {lines[-1] if lines else proc.returncode}")


def find_pg_dump(major: int, pg_bin: str | None) -> Path:
    """A pg_dump of major version `major`, or an error listing where it was looked for."""
    candidates = [Path(pg_bin) / "pg_dump"] if pg_bin else []
    try:
        candidates.append(embedded_bin_dir() / "pg_dump")
    except SchemashiftError:
        pass
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin/pg_dump"))
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and _major(candidate) == major:
            return candidate
    raise SchemashiftError(f"no pg_dump for PostgreSQL {major} (looked in {', '.join(map(str, candidates))}); "
                           "point --pg-bin at that version's binaries")


def _major(pg_dump: Path) -> int | None:
    proc = subprocess.run([str(pg_dump), "--version"], capture_output=True, text=True)
    found = _VERSION.search(proc.stdout) if proc.returncode == 0 else None
    return int(found.group(1)) if found else None
