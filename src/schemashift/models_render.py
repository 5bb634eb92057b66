"""Compile SQLAlchemy models to the DDL `create_all` would send, and name the files that DDL came from.

Runs where `models_source` decides: in the CLI's own (per-call) process, or in a child Python for a
library caller, whose process must not keep the user's modules. Either way the user's module is
imported once, fresh, and every file it pulled in is recorded so the DDL can be reused until one of
them changes (see models_source).
"""

from __future__ import annotations

import importlib
import json
import sys


class ModelsError(Exception):
    """The models cannot be imported or are not SQLAlchemy metadata; the message is one line."""


def render(target: str, sqlalchemy_url: str) -> tuple[str, list[str]]:
    """(DDL statements separated by lines holding only `;`, schemas first; the files imported for
    it, or none when the module was already imported and they cannot be known)."""
    import sqlalchemy
    from sqlalchemy import MetaData, create_mock_engine
    from sqlalchemy.schema import CreateSchema

    module_name, _, attr = target.rpartition(":")
    before = set(sys.modules)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the user's import error, reported in one line
        raise ModelsError(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    found: object = module
    for part in attr.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise ModelsError(f"{module_name} has no attribute {attr!r}")
    metadata = found if isinstance(found, MetaData) else getattr(found, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise ModelsError(f"{attr} is not a SQLAlchemy MetaData or declarative base")
    statements: list[str] = []
    engine = create_mock_engine(sqlalchemy_url, lambda ddl, *a, **k: statements.append(
        str(ddl.compile(dialect=engine.dialect)).strip()))
    schemas = sorted({t.schema for t in metadata.tables.values() if t.schema} | ({metadata.schema} if metadata.schema else set()))
    for schema in schemas:
        statements.append(str(CreateSchema(schema, if_not_exists=True).compile(dialect=engine.dialect)))
    metadata.create_all(engine, checkfirst=False)
    ddl = "\n;\n".join(statements) + "\n;\n"
    if module_name in before:
        return ddl, []  # imported earlier in this process: which files it read is not known here
    files = {getattr(sys.modules[name], "__file__", None) for name in set(sys.modules) - before}
    files.add(sqlalchemy.__file__)  # another SQLAlchemy may compile the same models differently
    return ddl, sorted(f for f in files if f)


def main() -> None:
    """The child's entry: `python -c '…main()' TARGET URL` prints JSON {ddl, files}, or exits with the error."""
    try:
        ddl, files = render(sys.argv[1], sys.argv[2])
    except ModelsError as exc:
        sys.exit(str(exc))
    sys.stdout.write(json.dumps({"ddl": ddl, "files": files}))
