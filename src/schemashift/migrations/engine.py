"""Which engine a project's migrations run on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ..dialects.base import Dialect
    from .backend import RunBackend


def dialect_of(settings: Settings) -> Dialect:
    """The engine a project runs on: the one its URL or target names, else `settings.dialect`."""
    from .. import dialects

    return dialects.choose([s for s in (settings.url, settings.target) if s], settings.dialect)


def backend_for(settings: Settings) -> RunBackend:
    return dialect_of(settings).run_backend()
