"""Schemas kept in the user's cache folder, so that what was read once is not read again: those of
sources that are only text (`.sql` files and folders, SQLAlchemy models), for engines where loading
them costs more than the rest of a diff, and those of databases whose catalogs are as they were
(`Dialect.catalog_state`).

A loaded schema depends on nothing but the text and the server that parsed it, so the key is a hash
of the dialect, the scratch server's identity (its version and the settings that change how it
prints a schema: `Dialect.scratch_identity`) and the text; a changed file is another key, so nothing
stale is ever served. A dialect whose identity is None opts out (PostgreSQL keeps loaded files as
template databases on its server instead; SQLite loads in memory faster than a file is read back).
Every key holds the state of schemashift's own files too: a changed inspector never reads an old
entry. The newest `KEEP` entries stay.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
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


_disabled = False


def disable(off: bool = True) -> None:
    """`--no-cache`: this process neither reads nor writes schemas (until `disable(False)`)."""
    global _disabled
    _disabled = off


@functools.cache
def _code() -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of each of the package's files, once a process: the code
    it runs is what it imported (a warm process is ended when the package changes)."""
    root = os.path.dirname(os.path.abspath(__file__))
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                found.append((os.path.relpath(os.path.join(folder, name), root), st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


def enabled() -> bool:
    """Off with `--no-cache`, `cache = false` or `SCHEMASHIFT_SCHEMA_CACHE=0`."""
    if _disabled or os.environ.get(CACHE_ENV, "1") == "0":
        return False
    from .config import load_settings

    return load_settings({}).cache


def key(*parts: object) -> str | None:
    """The entry for `parts` (None in any of them, or the cache turned off: no entry)."""
    if any(p is None for p in parts) or not enabled():
        return None
    return hashlib.sha256(repr((parts, _code())).encode()).hexdigest()[:40]


# Entries the warm process read ahead between calls (`read_ahead`): a call it forks finds them as
# objects, its own copy-on-write copy, instead of unpickling a GitLab-sized schema (~0.1 s a side).
_read_ahead: dict[str, Schema] = {}
READ_AHEAD = 4  # entries, the most recently used
READ_AHEAD_BYTES = 16 << 20  # the largest entry read ahead


def get(entry: str | None) -> Schema | None:
    if entry is None:
        return None
    path = os.path.join(_folder(), entry + ".pickle")
    schema = _read_ahead.get(entry) or _load(path)
    if schema is not None:
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept longest
    return schema


def _load(path: str) -> Schema | None:
    try:
        with open(path, "rb") as f:
            schema = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return schema if isinstance(schema, Schema) else None


def read_ahead() -> None:
    """Unpickle the most recently used entries into this process (the warm one, while it waits)."""
    try:
        entries = sorted((e for e in os.scandir(_folder()) if e.name.endswith(".pickle")),
                         key=lambda e: e.stat().st_mtime, reverse=True)
    except OSError:
        return
    wanted = [e for e in entries if e.stat().st_size <= READ_AHEAD_BYTES][:READ_AHEAD]
    kept = {}
    for e in wanted:
        name = e.name.removesuffix(".pickle")
        schema = _read_ahead.get(name) or _load(e.path)
        if schema is not None:
            kept[name] = schema
    _read_ahead.clear()
    _read_ahead.update(kept)


KEEP_ASIDE = 1000  # objects: from here on, pickling costs more than a fork


def put(entry: str | None, schema: Schema) -> None:
    """Keep `schema`; a large one from a process of its own where there is fork: pickling a
    GitLab-sized schema takes longer than the diff it was read for (see `_write_aside`)."""
    if entry is None:
        return
    if len(schema.objects) < KEEP_ASIDE or not hasattr(os, "fork") or not _write_aside(entry, schema):
        _write(entry, schema)


def _write_aside(entry: str, schema: Schema) -> bool:
    """Write the entry from a grandchild that holds none of this process's files (so no pipe or
    socket of the caller waits for it to end) and is nobody's to wait for; False if fork failed."""
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid:
        with contextlib.suppress(ChildProcessError):  # SIGCHLD ignored: reaped already
            os.waitpid(pid, 0)  # the child forks the writer and ends at once
        return True
    try:
        if os.fork() == 0:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.closerange(3, os.sysconf("SC_OPEN_MAX"))
            _write(entry, schema)
    finally:
        os._exit(0)


def _write(entry: str, schema: Schema) -> None:
    """Written whole, then renamed; the least recently used beyond KEEP are dropped."""
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
