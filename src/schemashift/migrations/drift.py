"""`check` and `sync`: compare a live database with the schema it should have.

`check` is the CI gate and migra's "deploy by comparison": the database must equal what the
migrations folder builds, and (with a target) the folder must build the target. The SQL it prints
is what would close each gap. `sync` closes the gap between a development database and a target
directly, with the same safety rule as `diff` (drops need `--unsafe`), and proves it by comparing
again afterwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..config import Settings
from ..online_flags import from_settings
from ..errors import SchemashiftError
from ..model import Schema
from ..plan import Plan
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


def check(settings: Settings) -> CheckResult:
    """Compare the database at `settings.url` with the folder, and the folder with the target
    when one is configured."""
    from .. import api
    from .runner import Project, compare

    project = Project.load(settings)
    settings = matching_server(settings)
    with project.backend.reader(settings.url) as conn:  # no history table: a database built without the runner
        recorded = project.backend.has_history(conn, project.table)
        pending = [m.name for m in compare(project, project.state(conn)).pending] if recorded else []
    with ThreadPoolExecutor(max_workers=1) as pool:  # the database is read while the folder replays
        live = pool.submit(source_schema, settings, settings.url or "")
        expected = folder_schema(settings)
        drift = api.diff_schemas(live.result(), expected, locks=False)
    unbuilt = api.diff_schemas(expected, source_schema(settings, settings.target), locks=False) if settings.target else None
    return CheckResult(drift, pending, unbuilt)


@dataclass(frozen=True)
class Sync:
    """A database and the target it is synced to; the target is read once, the database as often
    as it changes."""

    settings: Settings  # with the throwaway server matched to the database's version
    target: Schema

    @classmethod
    def of(cls, settings: Settings) -> Sync:
        if not settings.url:
            raise ConnectError("no database URL: pass --url or set DATABASE_URL")
        settings = matching_server(settings)
        return cls(settings, source_schema(settings, target_of(settings)))

    def plan(self) -> Plan:
        """What turns the database, as it is now, into the target."""
        from .. import api

        return api.diff_schemas(source_schema(self.settings, self.settings.url or ""), self.target,
                                online=from_settings(self.settings))

    def apply(self, plan: Plan) -> None:
        """Apply the plan, then compare again: what is left is reported, not assumed away."""
        from .. import api

        api.apply(plan, self.settings.url or "", lock_retries=self.settings.lock_retries)
        left = self.plan()
        if left:
            raise SchemashiftError(f"applied, but {len(left.statements)} difference(s) remain: "
                                   f"{left.statements[0].sql.splitlines()[0]}")
