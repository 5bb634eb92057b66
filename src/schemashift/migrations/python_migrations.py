"""Running a Python migration's `up(conn)` or `down(conn)`: a missing function or an exception is a
MigrationFailed naming the line of the migration file it came from."""

from __future__ import annotations

import traceback
from typing import Any

from .errors import MigrationFailed, MigrationsError
from .files import MigrationFile


def call(migration: MigrationFile, direction: str, conn: Any) -> None:
    function = getattr(migration.load_module(), direction, None)
    if function is None:
        raise MigrationsError(f"{migration.path}: defines no {direction}(conn)")
    try:
        function(conn)
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(migration.path)]
        raise MigrationFailed(str(migration.path), frames[-1].lineno if frames else None, f"{direction}()",
                              f"{type(exc).__name__}: {exc}".strip()) from None
