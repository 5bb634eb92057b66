"""SQLAlchemy models as a schema source: `python:pkg.module:metadata`.

The models are turned into the DDL SQLAlchemy's `create_all` would send to the command's engine, and
that SQL is loaded like any `.sql` file, so the model side is normalised by the engine exactly like a
database. The user's modules are imported fresh on every compile, with the current directory on the
path as `python -c` has it: in the CLI's own process, which is one call's (the warm process forks a
new one per call, and has SQLAlchemy imported already), or, for a library caller, in a child Python,
so that nothing the models do at import time stays in the caller's process.

Importing a large set of models costs about as much as the rest of a diff, so the DDL is kept in the
user's cache folder with the size and modification time of every file the import read (the models,
what they import, SQLAlchemy itself): the next call reuses it while none of those files changed, as
Python does with its bytecode. Models whose tables depend on something other than their files (an
environment variable read at import) must be compiled afresh: `SCHEMASHIFT_MODELS_CACHE=0`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile

from .errors import SourceError

MODELS_PREFIX = "python:"
CACHE_ENV = "SCHEMASHIFT_MODELS_CACHE"
_CHILD = "from schemashift.models_render import main; main()"

_here = False  # set by the CLI: import the models in this (per-call) process


def compile_in_this_process() -> None:
    """For a process that serves one call and ends (the CLI): no child Python is needed."""
    global _here
    _here = True


def models_sql(spec: str, sqlalchemy_url: str) -> str:
    """The DDL for the models `spec` names (`python:pkg.module:attr`) as SQLAlchemy compiles it for
    the engine of `sqlalchemy_url`, or a one-line `SourceError`."""
    target = spec[len(MODELS_PREFIX):]
    if ":" not in target or not all(target.partition(":")[::2]):
        raise SourceError(f"{spec}: expected python:pkg.module:attribute, e.g. python:app.models:Base")
    path = _cache_path(target, sqlalchemy_url)
    ddl = _cached(path)
    if ddl is None:
        ddl, files = _compile_here(spec, target, sqlalchemy_url) if _here else _compile_in_child(spec, target, sqlalchemy_url)
        _store(path, ddl, files)
    return ddl


def _search_path() -> list[str]:
    return [os.getcwd(), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]


def _compile_here(spec: str, target: str, sqlalchemy_url: str) -> tuple[str, list[str]]:
    from .models_render import ModelsError, render

    sys.path[:0] = [p for p in _search_path() if p not in sys.path]
    try:
        return render(target, sqlalchemy_url)
    except ModelsError as exc:
        raise SourceError(f"{spec}: {exc}") from None


def _compile_in_child(spec: str, target: str, sqlalchemy_url: str) -> tuple[str, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*_search_path(), os.path.dirname(os.path.dirname(__file__))])}
    proc = subprocess.run([sys.executable, "-c", _CHILD, target, sqlalchemy_url], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise SourceError(f"{spec}: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    found = json.loads(proc.stdout)
    return found["ddl"], found["files"]


# --- the cache -------------------------------------------------------------------------------------


def _cache_path(target: str, sqlalchemy_url: str) -> str | None:
    if os.environ.get(CACHE_ENV, "1") == "0":
        return None
    from .runtime.kept_settings import cache_dir

    key = json.dumps([target, sqlalchemy_url, sys.executable, _search_path()])
    return os.path.join(cache_dir(), "models", hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")


def _stamp(path: str) -> list[object] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [path, st.st_size, st.st_mtime_ns]


def _cached(path: str | None) -> str | None:
    """The kept DDL, if every file it was compiled from is as it was."""
    if path is None:
        return None
    try:
        with open(path) as f:
            entry = json.load(f)
    except (OSError, ValueError):
        return None
    if not entry.get("files") or any(_stamp(stamp[0]) != stamp for stamp in entry["files"]):
        return None
    return str(entry["ddl"])


def _store(path: str | None, ddl: str, files: list[str]) -> None:
    """Keep the DDL (written whole, then renamed: a reader never sees half a file)."""
    if path is None or not files:
        return
    stamps = [_stamp(f) for f in files]
    if None in stamps:
        return  # a file vanished meanwhile: nothing to vouch for the DDL
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(path), delete=False) as f:
            json.dump({"ddl": ddl, "files": stamps}, f)
        os.replace(f.name, path)
    except OSError:
        pass  # only the next call's speed depends on it
