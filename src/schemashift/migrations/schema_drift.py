"""`check` for one schema of a schema-per-tenant database (`check --each-schema`).

The folder is replayed, as for `check`, but into a schema of that name in the throwaway database,
with `search_path` set to it as `up --each-schema` runs it; then only that schema is compared on
both sides, so the other tenants and the history table kept in the schema are left out.
"""

from __future__ import annotations

from psycopg import sql

from ..config import Settings
from .database import connect
from .drift import CheckResult
from .fleet import in_schema
from .replay import replay
from .schemas import matching_server


def check_schema(settings: Settings, schema: str) -> CheckResult:
    """Compare `schema` of the database at `settings.url` with what the folder builds there."""
    from .. import api
    from ..servers import get_server
    from .runner import Project, compare

    project = Project.load(settings)
    settings = matching_server(settings)
    with connect(settings.url) as conn:
        recorded = project.table.exists(conn)
        pending = [m.name for m in compare(project, project.table.state(conn)).pending] if recorded else []
    with get_server(settings.dev_url, settings.pg_bin).scratch_database() as scratch:
        with connect(scratch) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        replay(in_schema(scratch, schema), settings.migrations)
        expected = api.inspect(scratch, schemas=[schema])
    live = api.inspect(settings.url or "", schemas=[schema], ignore_tables=(settings.history_table,))
    return CheckResult(api.diff_schemas(live, expected), pending)
