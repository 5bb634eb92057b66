"""The dialects, found as the packages of this folder, and the choice of one for a command.

A dialect package's `__init__` is light (no driver import): `NAME`, `ALIASES`, `claims(spec)` (does
a source spec name a database of this engine: its URL schemes, its file suffixes),
`owns_connection(obj)`, `driver_errors()` and `make_dialect()`, which builds its `base.Dialect`. Adding an engine is adding
a package here; nothing in this module or the pipeline names one.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import SourceError

if TYPE_CHECKING:
    from .base import Dialect

DEFAULT = "postgresql"


@functools.cache
def _packages() -> tuple[ModuleType, ...]:
    found = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__) if m.ispkg]
    return tuple(p for p in found if hasattr(p, "NAME"))


def names() -> list[str]:
    return sorted(p.NAME for p in _packages())


def _package(name: str) -> ModuleType:
    for p in _packages():
        if name == p.NAME or name in getattr(p, "ALIASES", ()):
            return p
    raise SourceError(f"unknown dialect {name!r} (expected {', '.join(names())})")


@functools.cache
def by_name(name: str) -> Dialect:
    """The dialect called `name` (or one of its aliases, e.g. `mariadb`)."""
    return _package(name).make_dialect()  # type: ignore[no-any-return]


def canonical(name: str) -> str:
    """`name`'s dialect name, or a one-line error listing the known ones."""
    return str(_package(name).NAME)


def driver_errors() -> tuple[type[Exception], ...]:
    """Every dialect's driver's base error: what a command turns into one line if it escapes."""
    return tuple(e for p in _packages() for e in p.driver_errors())


def claimed_by(source: object) -> str | None:
    """The dialect a source names by itself (a URL, a database file, a connection); None for
    sources any dialect can load (`.sql` files and folders, `empty`, migrations, models)."""
    for p in _packages():
        if p.owns_connection(source) if not isinstance(source, str) else p.claims(source):
            return str(p.NAME)
    return None


def choose(sources: Iterable[object], explicit: str | None = None) -> Dialect:
    """The one dialect of a command's sources: the one they name, else `explicit` (--dialect or
    the config's `dialect`), else PostgreSQL. Two engines in one command is a one-line error."""
    sources = list(sources)
    named = {claimed_by(s) for s in sources} - {None}
    wanted = canonical(explicit) if explicit else None
    if wanted:
        named.add(wanted)
    if len(named) > 1:
        raise SourceError(f"cannot mix dialects in one command: {' and '.join(sorted(n for n in named if n))}"
                          " (each side must be the same engine)")
    return by_name(named.pop() if named else DEFAULT)  # type: ignore[arg-type]
