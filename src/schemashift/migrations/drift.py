"""`check` and `sync`: compare a live database with the schema it should have.

`check` is the CI gate and migra's "deploy by comparison": the database must equal what the
migrations folder builds, and (with a target) the folder must build the target. The SQL it prints
is what would close each gap. `sync` closes the gap between a development database and a target
directly, with the same safety rule as `diff` (drops need `--unsafe`), and proves it by comparing
again afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Settings
from ..errors import SchemashiftError
from ..plan import Plan
from .database import connect
from .errors import ConnectError
from .schemas import folder_schema, matching_server, source_schema, target_of


@dataclass
class CheckResult:
    drift: Plan  # turns the database into what the folder builds
    pending: list[str] = field(default_factory=list)  # migrations in the folder, not applied
    unbuilt: Plan | None = None  # turns the folder's schema into the target (None: no target given)

    @property
    def ok(self) -> bool:
        return not (self.drift or self.pending or self.unbuilt)


def check(settings: Settings, with_target: bool) -> CheckResult:
    """Compare the database at `settings.url` with the folder, and the folder with the target."""
    from .. import api
    from .runner import Project, compare

    project = Project.load(settings)
    settings = matching_server(settings)
    with connect(settings.url) as conn:  # no history table: a database built without the runner
        recorded = project.table.exists(conn)
        pending = [m.name for m in compare(project, project.table.state(conn)).pending] if recorded else []
    expected = folder_schema(settings)
    drift = api.diff_schemas(source_schema(settings, settings.url or ""), expected)
    unbuilt = api.diff_schemas(expected, source_schema(settings, target_of(settings))) if with_target else None
    return CheckResult(drift, pending, unbuilt)


def sync_plan(settings: Settings) -> Plan:
    """What turns the database at `settings.url` into the target."""
    from .. import api

    if not settings.url:
        raise ConnectError("no database URL: pass --url or set DATABASE_URL")

    settings = matching_server(settings)
    return api.diff_schemas(source_schema(settings, settings.url), source_schema(settings, target_of(settings)))


def apply_sync(settings: Settings, plan: Plan) -> None:
    """Apply the plan, then compare again: what is left is reported, not assumed away."""
    from .. import api

    api.apply(plan, settings.url or "")
    left = sync_plan(settings)
    if left:
        raise SchemashiftError(f"applied, but {len(left.statements)} difference(s) remain: "
                               f"{left.statements[0].sql.splitlines()[0]}")
