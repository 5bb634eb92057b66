"""The schemas the workflow commands compare: a migrations folder replayed, and any other source,
both read without schemashift's own history table."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ..config import Settings
from ..errors import SchemashiftError
from ..model import Schema
from ..servers import get_server
from .database import connect
from .replay import replayed

# Where Debian and Ubuntu install each major version side by side.
DEBIAN_BIN = "/usr/lib/postgresql/{major}/bin"


def folder_schema(settings: Settings, to: int | None = None) -> Schema:
    """The schema the migrations folder builds (up to version `to`), on a throwaway database."""
    from .. import api

    with replayed(settings.migrations, to, dev_url=settings.dev_url, pg_bin=settings.pg_bin) as url:
        return api.inspect(url)


def source_schema(settings: Settings, spec: str) -> Schema:
    """Any diff source (URL, file, folder, `python:`…) as a schema, the history table left out."""
    from .. import api

    return api.inspect(spec, ignore_tables=(settings.history_table,), dev_url=settings.dev_url,
                       pg_bin=settings.pg_bin)


def target_of(settings: Settings) -> str:
    """The desired schema's source; a clear error when none is configured."""
    if not settings.target:
        raise SchemashiftError("no target schema: pass --target (a .sql file, a folder, python:pkg.module:metadata "
                               "or a URL) or set `target` in schemashift.toml")
    return settings.target


def matching_server(settings: Settings) -> Settings:
    """Settings whose throwaway server has the live database's major version, when the user chose
    none: defaults and privileges differ between versions (PostgreSQL 17 added MAINTAIN), so a
    replay compared with a database must run on the same version to compare only the schema."""
    if settings.dev_url or settings.pg_bin:
        return settings
    with connect(settings.url) as conn:
        major = conn.info.server_version // 10000
    if get_server().major_version == major:
        return settings
    candidate = Path(DEBIAN_BIN.format(major=major))
    if (candidate / "postgres").exists():
        return dataclasses.replace(settings, pg_bin=str(candidate))
    print(f"schemashift: warning: no PostgreSQL {major} binaries found; comparing with PostgreSQL "
          f"{get_server().major_version}, which may report version-only differences (pass --pg-bin)", file=sys.stderr)
    return settings
