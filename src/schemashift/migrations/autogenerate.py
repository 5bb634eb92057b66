"""`schemashift new` from a diff: the next migration, written from what the folder lacks.

The folder is replayed on a throwaway database and compared with the target schema. The up section
is the plan from the folder's schema to the target, the down section the plan back, both ordered by
the same planner as `diff`; each destructive statement carries a comment saying what it loses, so
the review before commit sees it. No difference, no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..online_flags import from_settings
from ..plan import Plan
from . import checksum
from .files import read_folder, write_new
from .schemas import folder_schema, matching_server, source_schema, target_of


@dataclass(frozen=True)
class Generated:
    path: Path | None  # None: the folder already builds the target
    up: Plan
    down: Plan


def generate(settings: Settings, message: str) -> Generated:
    """Write the next migration bringing the folder to the target, with its reverse as down."""
    from .. import api
    from .runner import Project

    project = Project.load(settings)  # refuses an edited folder before any work
    target = target_of(settings)
    settings = matching_server(settings, target)  # a live target: replay on its major version
    current = folder_schema(settings)
    desired = source_schema(settings, target)
    online = from_settings(settings)
    up, down = (api.diff_schemas(current, desired, online=online, locks=False),
                api.diff_schemas(desired, current, online=online, locks=False))
    if not up:
        return Generated(None, up, down)
    path = write_new(settings.migrations, project.files, message,
                     up=up.text(mark_unsafe=True), down=down.text(mark_unsafe=True))
    checksum.write(settings.migrations, read_folder(settings.migrations))
    return Generated(path, up, down)
