"""SQLAlchemy models as a schema source: `python:pkg.module:metadata`.

The models are turned into the DDL SQLAlchemy's `create_all` would send to the command's engine, and
that SQL is loaded like any `.sql` file, so the model side is normalised by the engine exactly like a
database.
The import runs in a child Python: the user's modules are imported fresh on every call (a changed
models file is seen at once), with the current directory on the path as `python -c` has it, and
nothing they do at import time touches our process.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .errors import SourceError

MODELS_PREFIX = "python:"

# Run in the child: find the MetaData (or a declarative base's), and print the DDL statements
# create_all would run, schemas first, separated by a line holding only ";".
_RENDER = r"""
import importlib, sys
from sqlalchemy import MetaData
from sqlalchemy.schema import CreateSchema
from sqlalchemy import create_mock_engine

module_name, _, attr = sys.argv[1].rpartition(":")
try:
    module = importlib.import_module(module_name)
except Exception as exc:
    sys.exit(f"cannot import {module_name}: {type(exc).__name__}: {exc}")
target = module
for part in attr.split("."):
    target = getattr(target, part, None)
    if target is None:
        sys.exit(f"{module_name} has no attribute {attr!r}")
metadata = target if isinstance(target, MetaData) else getattr(target, "metadata", None)
if not isinstance(metadata, MetaData):
    sys.exit(f"{attr} is not a SQLAlchemy MetaData or declarative base")
statements = []
engine = create_mock_engine(sys.argv[2], lambda ddl, *a, **k: statements.append(str(ddl.compile(dialect=engine.dialect)).strip()))
schemas = sorted({t.schema for t in metadata.tables.values() if t.schema} | ({metadata.schema} if metadata.schema else set()))
for schema in schemas:
    statements.append(str(CreateSchema(schema, if_not_exists=True).compile(dialect=engine.dialect)))
metadata.create_all(engine, checkfirst=False)
sys.stdout.write("\n;\n".join(statements) + "\n;\n")
"""


def models_sql(spec: str, sqlalchemy_url: str) -> str:
    """The DDL for the models `spec` names (`python:pkg.module:attr`) as SQLAlchemy compiles it for
    the engine of `sqlalchemy_url`, or a one-line `SourceError`."""
    target = spec[len(MODELS_PREFIX):]
    if ":" not in target or not all(target.partition(":")[::2]):
        raise SourceError(f"{spec}: expected python:pkg.module:attribute, e.g. python:app.models:Base")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", _RENDER, target, sqlalchemy_url], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise SourceError(f"{spec}: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    return proc.stdout
