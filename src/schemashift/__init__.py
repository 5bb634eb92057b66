"""schemashift: change database schemas safely — declarative diffs and versioned migrations."""

from __future__ import annotations

from .api import Migration, apply, diff, inspect
from .errors import SchemashiftError
from .servers import temporary_database

__all__ = ["Migration", "SchemashiftError", "apply", "diff", "inspect", "temporary_database"]
