"""Schemas read from sources that are only text (`.sql` files and folders, SQLAlchemy models), kept
in the user's cache folder, for engines where loading them costs more than the rest of a diff.

A loaded schema depends on nothing but the text and the server that parsed it, so the key is a hash
of the dialect, the scratch server's identity (its version and the settings that change how it
prints a schema: `Dialect.scratch_identity`) and the text; a changed file is another key, so nothing
stale is ever served. A dialect whose identity is None opts out (PostgreSQL keeps loaded files as
template databases on its server instead; SQLite loads in memory faster than a file is read back).
The newest `KEEP` entries stay.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile

from .model import Schema

KEEP = 64
CACHE_ENV = "SCHEMASHIFT_SCHEMA_CACHE"


def _folder() -> str:
    from .runtime.kept_settings import cache_dir

    return os.path.join(cache_dir(), "schemas")


def key(*parts: object) -> str | None:
    """The entry for `parts` (None in any of them, or the cache turned off: no entry)."""
    if any(p is None for p in parts) or os.environ.get(CACHE_ENV, "1") == "0":
        return None
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def get(entry: str | None) -> Schema | None:
    if entry is None:
        return None
    path = os.path.join(_folder(), entry + ".pickle")
    try:
        with open(path, "rb") as f:
            schema = pickle.load(f)
        os.utime(path)  # recently used: kept longest
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return schema if isinstance(schema, Schema) else None


def put(entry: str | None, schema: Schema) -> None:
    """Keep `schema` (written whole, then renamed), dropping the least recently used beyond KEEP."""
    if entry is None:
        return
    folder = _folder()
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False) as f:
            pickle.dump(dataclasses.replace(schema, _cached=None), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, os.path.join(folder, entry + ".pickle"))
        entries = sorted((e for e in os.scandir(folder) if e.name.endswith(".pickle")),
                         key=lambda e: e.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            os.unlink(old.path)
    except OSError:
        pass  # only the next call's speed depends on it
