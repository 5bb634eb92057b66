"""What the versioned side's tests share besides fixtures: a command's result, a migrations folder
kept in step with its sum, and the CLI run in this process. (A module of its own, not conftest:
pytest imports every folder's conftest under the same name, so `from conftest import` would find
whichever folder's came last.)"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from schemashift.cli import cli
from schemashift.migrations import checksum
from schemashift.migrations.files import read_folder


@dataclass
class Result:
    code: int
    out: str
    err: str

    def one_line_error(self) -> str:
        """Assert the shape every user error has: exit 1, one stderr line, no traceback."""
        assert self.code == 1, (self.out, self.err)
        assert "Traceback" not in self.err
        lines = self.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("schemashift: "), self.err
        return lines[0]


class Folder:
    """A migrations folder written by a test, kept in step with its sum."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        checksum.write(path, [])

    def add(self, name: str, up: str, down: str = "", *, header: str = "") -> Path:
        body = f"{header}\n-- schemashift:up\n{textwrap.dedent(up).strip()}\n"
        body += f"-- schemashift:down\n{textwrap.dedent(down).strip()}\n"
        file = self.path / name
        file.write_text(body)
        self.rehash()
        return file

    def rehash(self) -> None:
        checksum.write(self.path, read_folder(self.path))


def cli_run(*args: str) -> Result:
    """The CLI in this process (fast); `spawn` runs it as a real process where that matters."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)
