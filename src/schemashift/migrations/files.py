"""The migrations folder: one file per migration, `NNNN_slug.sql` or `NNNN_slug.py`.

A SQL file has an up and a down section, each opened by a marker line (`-- schemashift:up`,
`-- schemashift:down`); `-- schemashift:no-transaction` anywhere makes every statement of the file
run on its own. A Python file defines `up(conn)` and `down(conn)` for changes SQL cannot express.
A file whose name looks almost right is an error, not ignored: a migration that silently never
runs is worse than a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

from .errors import FolderError

SUM_FILE = "schemashift.sum"
NAME = re.compile(r"^(?P<version>\d+)_(?P<slug>[A-Za-z0-9_]+)\.(?P<ext>sql|py)$")
MARKER = re.compile(r"^\s*--\s*schemashift:(?P<word>\S+)\s*$")
MARKERS = ("up", "down", "no-transaction")
SQL_TEMPLATE = "-- {message}\n\n-- schemashift:up\n{up}\n\n-- schemashift:down\n{down}\n"
PY_TEMPLATE = '''"""{message}"""


def up(conn):
    """Apply the change; `conn` is a psycopg connection inside this migration's transaction."""


def down(conn):
    """Revert the change."""
'''


@dataclass(frozen=True)
class Section:
    """One direction of a SQL migration: its text and where it starts in the file (1-based)."""

    text: str
    first_line: int
    no_transaction: bool


@dataclass(frozen=True)
class MigrationFile:
    """One migration file as it is on disk now."""

    path: Path
    version: int
    content: bytes

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_python(self) -> bool:
        return self.path.suffix == ".py"

    @cached_property
    def checksum(self) -> str:
        """The file's own hash, as recorded in the history table when it is applied."""
        import hashlib  # here, not at start-up: --help stays fast

        return hashlib.sha256(self.content).hexdigest()

    def section(self, direction: str) -> Section:
        """The `up` or `down` section of a SQL file; an error names the file and the line."""
        return _sections(self)[direction]

    def load_module(self) -> ModuleType:
        """Import a Python migration under a private name, so two folders never share modules."""
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"schemashift_migration_{self.version}", self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def read_folder(folder: Path) -> list[MigrationFile]:
    """Every migration in `folder`, by version; refuses bad names and duplicate versions."""
    if not folder.is_dir():
        raise FolderError(f"no migrations folder at {folder} (run `schemashift init`)")
    found: dict[int, MigrationFile] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".sql", ".py") or path.name.startswith(("_", ".")):
            continue
        match = NAME.match(path.name)
        if match is None:
            raise FolderError(f"{path}: not a migration name (expected NNNN_slug.sql or NNNN_slug.py)")
        version = int(match["version"])
        if version in found:
            raise FolderError(f"{path}: version {version} is also {found[version].name}")
        found[version] = MigrationFile(path, version, _read_text_bytes(path))
    return [found[v] for v in sorted(found)]


def _read_text_bytes(path: Path) -> bytes:
    """A migration's bytes, refused now if they cannot be read or are not UTF-8 text: every command
    reads the folder, and a file no run can decode must not be hashed, stamped or skipped past."""
    try:
        content = path.read_bytes()
        content.decode()
    except OSError as exc:
        raise FolderError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FolderError(f"{path}: not UTF-8 text") from None
    return content


def _sections(migration: MigrationFile) -> dict[str, Section]:
    try:
        lines = migration.content.decode().splitlines()
    except UnicodeDecodeError:
        raise FolderError(f"{migration.path}: not UTF-8 text") from None
    bodies: dict[str, list[str]] = {}
    starts: dict[str, int] = {}
    current: str | None = None
    no_transaction = False
    for number, line in enumerate(lines, 1):
        marker = MARKER.match(line)
        word = marker["word"] if marker else None
        if word == "no-transaction":
            no_transaction = True
        elif word in ("up", "down"):
            if word in bodies:
                raise FolderError(f"{migration.path}:{number}: second `-- schemashift:{word}`")
            current, starts[word], bodies[word] = word, number + 1, []
        elif word is not None:
            raise FolderError(f"{migration.path}:{number}: unknown marker `schemashift:{word}`")
        elif current is not None:
            bodies[current].append(line)
        elif line.strip() and not line.lstrip().startswith("--"):
            raise FolderError(f"{migration.path}:{number}: SQL before `-- schemashift:up`")
    if "up" not in bodies:
        raise FolderError(f"{migration.path}: no `-- schemashift:up` section")
    return {
        d: Section("\n".join(bodies.get(d, [])), starts.get(d, len(lines) + 1), no_transaction)
        for d in ("up", "down")
    }


def slugify(message: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:50].strip("_")
    return slug or "migration"


def write_new(folder: Path, existing: list[MigrationFile], message: str, python: bool = False, *,
              up: str = "", down: str = "") -> Path:
    """Write the next numbered migration (SQL with these up and down sections, or a Python
    skeleton) and return its path."""
    version = (existing[-1].version + 1) if existing else 1
    suffix = ".py" if python else ".sql"
    path = folder / f"{version:04d}_{slugify(message)}{suffix}"
    template = PY_TEMPLATE if python else SQL_TEMPLATE
    path.write_text(template.format(message=" ".join(message.split()), up=up.rstrip("\n"), down=down.rstrip("\n")))
    return path
