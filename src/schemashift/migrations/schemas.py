"""The schemas the workflow commands compare: a migrations folder replayed, and any other source,
both read without schemashift's own history table."""

from __future__ import annotations

import dataclasses

from ..config import Settings
from ..errors import SchemashiftError
from ..dialects.base import ScratchServer
from ..model import Schema
from .engine import dialect_of
from .replay import replayed


def folder_schema(settings: Settings, to: int | None = None) -> Schema:
    """The schema the migrations folder builds (up to version `to`), on a throwaway database."""
    from .. import api

    with replayed(settings.migrations, to, dev_url=settings.dev_url, pg_bin=settings.pg_bin,
                  dialect=dialect_of(settings).name) as url:
        return api.inspect(url)


def source_schema(settings: Settings, spec: str) -> Schema:
    """Any diff source (URL, file, folder, `python:`…) as a schema, the history table left out."""
    from .. import api

    return api.inspect(spec, ignore_tables=(settings.history_table,), dev_url=settings.dev_url,
                       pg_bin=settings.pg_bin, dialect=dialect_of(settings).name)


def target_of(settings: Settings) -> str:
    """The desired schema's source; a clear error when none is configured."""
    if not settings.target:
        raise SchemashiftError("no target schema: pass --target (a .sql file, a folder, python:pkg.module:metadata "
                               "or a URL) or set `target` in schemashift.toml")
    return settings.target


def matching_server(settings: Settings, live: str | None = None) -> Settings:
    """Settings whose throwaway server matches the live database `live` (default: the `--url`
    one), so replays compare with it on equal terms (see the dialect's `for_comparison`)."""
    live = live or settings.url
    if not live:
        return settings  # nothing live to match (a missing URL is reported by the command itself)
    server = dialect_of(settings).for_comparison([live], ScratchServer(settings.dev_url, settings.pg_bin))
    return dataclasses.replace(settings, pg_bin=server.bin_dir)
