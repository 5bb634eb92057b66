"""Fixtures for the versioned side: one embedded PostgreSQL per session, a fresh database per test,
a migrations folder builder, the CLI run in-process or as a process, and a schema fingerprint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

import schemashift
from schemashift.dialects.postgres import servers
from schemashift.cli import cli
from schemashift.migrations import checksum
from schemashift.migrations.files import read_folder

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
HISTORY = "schemashift.history"  # in a schema of its own, which schema comparisons leave out


@pytest.fixture(scope="session")
def server() -> servers.Server:
    return servers.get_server()


@pytest.fixture
def url(server: servers.Server) -> Iterator[str]:
    with server.scratch_database() as database_url:
        yield database_url


@pytest.fixture(params=["18", "15"])
def any_url(request: pytest.FixtureRequest, server: servers.Server) -> Iterator[str]:
    """A fresh database on embedded PostgreSQL 18, then on Debian's 15 (skipped when absent)."""
    chosen = server
    if request.param == "15":
        if not (PG15_BIN / "postgres").exists():
            pytest.skip(f"PostgreSQL 15 is not installed in {PG15_BIN}")
        chosen = servers.get_server(pg_bin=str(PG15_BIN))
    with chosen.scratch_database() as database_url:
        yield database_url


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


@pytest.fixture
def make_folder(tmp_path: Path):
    """`make_folder(name)`: another empty migrations folder with its sum."""
    return lambda name: Folder(tmp_path / name)


@pytest.fixture
def folder(make_folder) -> Folder:
    return make_folder("migrations")


def cli_run(*args: str) -> Result:
    """The CLI in this process (fast); `spawn` runs it as a real process where that matters."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def shift():
    """`shift(folder, url, "up", ...)`: the CLI on that folder and database, in this process."""

    def run(folder: Folder, url: str, *args: str, table: str = HISTORY) -> Result:
        return cli_run(*args, "--url", url, "--migrations", str(folder.path), "--history-table", table)

    return run


@pytest.fixture(scope="session")
def spawn_cache() -> Iterator[Path]:
    """The cache folder of spawned processes: as for a user, their calls go to a warm process when
    one is up, and it lives here, to be stopped when the session ends."""
    path = Path(tempfile.mkdtemp(prefix="ss-spawn-cache-"))
    path.chmod(0o755)  # a kept server, run as nobody under root, must be able to enter it
    yield path
    subprocess.run([sys.executable, "-m", "schemashift", "server", "stop"],
                   env={**os.environ, "XDG_CACHE_HOME": str(path)}, capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def spawn(spawn_cache: Path):
    """`spawn(args...)`: `python -m schemashift ...` as a real process, with a user's environment."""

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        clean = {k: v for k, v in os.environ.items()
                 if k != "DATABASE_URL" and not k.startswith("SCHEMASHIFT_")} | {"XDG_CACHE_HOME": str(spawn_cache)}
        return subprocess.Popen([sys.executable, "-m", "schemashift", *args], env={**clean, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    return start


class Database:
    """Looks at databases of the test server: schema fingerprints, psql, queries."""

    def __init__(self, server: servers.Server) -> None:
        assert server.bin_dir is not None
        self.bin_dir = server.bin_dir

    def schema(self, url: str, history_schema: str = "schemashift") -> object:
        """The database's schema model by inspection, leaving out the schema of the history table."""
        return schemashift.inspect(url, exclude_schemas=[history_schema])

    def psql(self, url: str, script: str) -> None:
        """Run a script the way a DBA would: `psql -v ON_ERROR_STOP=1 -f -`."""
        proc = subprocess.run(
            servers._runas_prefix()
            + [str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", url],
            input=script, capture_output=True, text=True,
        )
        assert proc.returncode == 0, proc.stderr

    def query(self, url: str, statement: str) -> list[tuple]:
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(statement.encode())
            return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="session")
def db(server: servers.Server) -> Database:
    return Database(server)
