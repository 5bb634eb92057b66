"""One schema of a schema-per-tenant database (`--each-schema`): a URL whose sessions work in it,
and `check` for it.

For `check`, the folder is replayed as for a whole database, but into a schema of that name in the
throwaway database, with `search_path` set to it as `up --each-schema` runs it; then only that
schema is compared on both sides, so the other tenants and the history table kept in the schema
are left out.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..config import Settings
from ..urls import normalize_url
from .drift import CheckResult
from .engine import dialect_of
from .replay import replay
from .schemas import matching_server


def in_schema(url: str, schema: str) -> str:
    """`url` whose sessions have `search_path` set to `schema` alone, through libpq's `options`
    (where a space or backslash in a value is escaped with a backslash); still a URL when it was one,
    so it stays a live source for `check`."""
    quoted = '"' + schema.replace('"', '""') + '"'
    setting = "-c search_path=" + quoted.replace("\\", "\\\\").replace(" ", "\\ ")
    url = normalize_url(url)
    given = conninfo_to_dict(url).get("options")
    options = f"{given} {setting}" if given else setting
    if not url.startswith("postgresql://"):
        return make_conninfo(url, options=options)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("options", options)], quote_via=quote)))


def check_schema(settings: Settings, schema: str) -> CheckResult:
    """Compare `schema` of the database at `settings.url` with what the folder builds there."""
    from .. import api
    from ..dialects.base import ScratchServer
    from ..dialects.postgres.run_session import connect
    from .runner import Project, compare

    project = Project.load(settings)
    settings = matching_server(settings)
    with project.backend.reader(settings.url) as conn:
        recorded = project.backend.has_history(conn, project.table)
        pending = [m.name for m in compare(project, project.state(conn)).pending] if recorded else []
    with dialect_of(settings).empty(ScratchServer(settings.dev_url, settings.pg_bin)) as scratch:
        with connect(scratch) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        replay(in_schema(scratch, schema), settings.migrations)
        expected = api.inspect(scratch, schemas=[schema])
    live = api.inspect(settings.url or "", schemas=[schema], ignore_tables=(settings.history_table,))
    return CheckResult(api.diff_schemas(live, expected, locks=False), pending)
