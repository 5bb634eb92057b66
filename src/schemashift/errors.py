"""User-facing errors. The CLI catches only `SchemashiftError` and prints its one-line message."""

from __future__ import annotations

import graphlib
import re

EXIT_ERROR = 1
EXIT_DIFFERENCES = 2
EXIT_UNSAFE = 3

_PASSWORD_IN_URL = re.compile(r"(?P<scheme>\w[\w+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@")
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide passwords in URLs and conninfo strings before they reach a terminal or a log."""
    text = _PASSWORD_IN_URL.sub(r"\g<scheme>\g<user>:***@", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)


class SchemashiftError(Exception):
    """Base of every error a user can cause; its message is one line, already redacted."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(redact(" ".join(message.split())))


class SourceError(SchemashiftError):
    """A schema source could not be resolved, reached or loaded."""


class LoadError(SourceError):
    """A `.sql` file failed to load; carries where."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else path
        self.path, self.line = path, line
        super().__init__(f"{where}: {message}")


class ServerError(SchemashiftError):
    """A throwaway server could not be started or used."""


class UnsafeChanges(SchemashiftError):
    """The plan holds destructive statements and `--unsafe` was not given."""

    exit_code = EXIT_UNSAFE


class UnsupportedChange(SchemashiftError):
    """The differ met a change it has no way to render."""


class PlanCycle(SchemashiftError, graphlib.CycleError):
    """The planner met statements that wait on each other: no order can run them; names the cycle."""

    def __init__(self, message: str, cycle: tuple[tuple[str, ...], ...] = ()) -> None:
        super().__init__(message)
        self.cycle = cycle  # the object keys of the statements in the cycle, in order
