"""The `.sql` files a source names, read as text: every dialect loads these into a scratch database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError

EXPECTED = "expected a database URL, a .sql file, a folder, 'empty', migrations:DIR or python:module:attr"


@dataclass(frozen=True)
class SqlFile:
    """A file's SQL and the name errors give it (its path, or the source spec that made it)."""

    path: str
    text: str

    def line_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def sql_paths(spec: str) -> list[Path]:
    """The `.sql` files a path names: the file itself, or a folder's `*.sql` sorted by name."""
    path = Path(spec)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.suffix.lower() == ".sql" and p.is_file()), key=lambda p: p.name)
        if not files:
            raise SourceError(f"{spec}: folder holds no .sql files")
        return files
    if not path.exists():
        raise SourceError(f"{spec}: no such file or folder ({EXPECTED})")
    if path.suffix.lower() != ".sql":
        raise SourceError(f"{spec}: not a .sql file ({EXPECTED})")
    return [path]


def read_sql_file(path: Path) -> SqlFile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    return SqlFile(str(path), text)
