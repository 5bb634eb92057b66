"""The PostgreSQL linter for hand-written SQL: version-aware rules (server major 15-18) for what a
statement does to a live table (locks, scans, rewrites), to the clients of the old schema (drops,
renames) and to later changes (column types), covering what squawk checks (docs/lint-rules.md maps
the rules).

`lint_text(text, version)` returns the findings; the rule modules register themselves on import
(one module per family: indexes, constraints, columns, compat, types, session, misc, versions).
"""

from __future__ import annotations

from . import columns, compat, constraints, indexes, misc, session, types, versions  # noqa: F401  (registration)
from .engine import Finding, LintInputError, file_ignores, lint_text
from .registry import RULES, Level, Rule

__all__ = ["Finding", "Level", "LintInputError", "RULES", "Rule", "file_ignores", "lint_text"]
