"""Errors of the versioned side. Each carries the file or version it is about, so the one-line
message the CLI prints tells the user where to look."""

from __future__ import annotations

from ..errors import SchemashiftError


class MigrationsError(SchemashiftError):
    """Base of the errors about a migrations folder or a history table."""


class FolderError(MigrationsError):
    """The folder or one of its files cannot be read as migrations (bad name, bad sections, ...)."""


class SumMismatch(MigrationsError):
    """The folder and `schemashift.sum` disagree: a file was edited, added or removed."""


class HistoryMismatch(MigrationsError):
    """The history table and the folder disagree: an applied file changed or disappeared."""


class UnknownVersion(MigrationsError):
    """A version given on the command line names no migration file."""


class LockTimeout(MigrationsError):
    """Another run held the migration lock for longer than `--lock-timeout`."""


class ConnectError(MigrationsError):
    """No URL was given, or the server could not be reached."""


class MigrationFailed(MigrationsError):
    """A migration's statement failed; names the file, the line and the server's error."""

    def __init__(self, path: str, line: int | None, statement: str, error: str) -> None:
        self.path, self.line, self.statement, self.error = path, line, statement, error
        where = f"{path}:{line}" if line else path
        head = " ".join(statement.split())
        head = head if len(head) <= 60 else head[:57] + "..."
        super().__init__(f"{where}: {head}: {error}")
