"""`schemashift.sum`: the folder's integrity file.

The first line is the hash of the whole folder; then one line per file, `name h1:<hash>`, where each
hash is chained over the file's content and every earlier line. Two branches that each add a
migration both rewrite the first line and append at the same place, so git reports a conflict
instead of merging two histories into one that no database has seen. Any edit, addition or removal
without `schemashift hash` is caught, and the message names the first file that differs.
"""

from __future__ import annotations

from pathlib import Path

from .errors import SumMismatch
from .files import SUM_FILE, MigrationFile

PREFIX = "h1:"


def _encode(digest: bytes) -> str:
    import base64

    return PREFIX + base64.b64encode(digest).decode()


def compute(migrations: list[MigrationFile]) -> tuple[str, list[tuple[str, str]]]:
    """The folder hash and `(name, chained hash)` per file."""
    import hashlib  # here, like every import the commands need only when they run: --help stays fast

    chain = hashlib.sha256()
    lines = []
    for migration in migrations:
        chain.update(migration.name.encode() + b"\0" + hashlib.sha256(migration.content).digest())
        lines.append((migration.name, _encode(chain.copy().digest())))
    return _encode(chain.digest()), lines


def render(migrations: list[MigrationFile]) -> str:
    total, lines = compute(migrations)
    return "".join([f"{total}\n", *(f"{name} {digest}\n" for name, digest in lines)])


def write(folder: Path, migrations: list[MigrationFile]) -> Path:
    """Rewrite the sum for the folder as it is now (`schemashift hash`)."""
    path = folder / SUM_FILE
    path.write_text(render(migrations))
    return path


def _parse(path: Path) -> tuple[str, list[tuple[str, str]]]:
    lines = path.read_text().splitlines()
    if not lines or not lines[0].startswith(PREFIX):
        raise SumMismatch(f"{path}:1: malformed sum (expected `{PREFIX}...`; run `schemashift hash`)")
    entries = []
    for number, line in enumerate(lines[1:], 2):
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith(PREFIX):
            raise SumMismatch(f"{path}:{number}: malformed sum line (run `schemashift hash`)")
        entries.append((parts[0], parts[1]))
    return lines[0], entries


def verify(folder: Path, migrations: list[MigrationFile]) -> None:
    """Refuse when the folder and its sum disagree, naming the first file that differs."""
    path = folder / SUM_FILE
    if not path.exists():
        if migrations:
            raise SumMismatch(f"{path} is missing (run `schemashift hash`)")
        return
    total, recorded = _parse(path)
    expected_total, expected = compute(migrations)
    names = {name for name, _ in expected}
    for index, (name, digest) in enumerate(expected):
        if index >= len(recorded) or recorded[index][0] in names - {name}:
            raise SumMismatch(f"{folder / name}: not in {SUM_FILE} (added without `schemashift hash`)")
        if recorded[index][0] != name:
            raise SumMismatch(f"{folder / recorded[index][0]}: listed in {SUM_FILE} but missing")
        if recorded[index][1] != digest:
            raise SumMismatch(f"{folder / name}: changed since {SUM_FILE} was written")
    if len(recorded) > len(expected):
        missing = recorded[len(expected)][0]
        raise SumMismatch(f"{folder / missing}: listed in {SUM_FILE} but missing")
    if total != expected_total:
        raise SumMismatch(f"{path}:1: folder hash does not match (run `schemashift hash`)")
