"""No password in any output path (issue 16, part 3): a role with a recognisable password, every
command run with URLs holding it, and everything each writes searched for it: stdout, stderr,
history's who column, `--sql`, JSON, files written, pg_dump's command line, the warm process's
environment, command line and cache files. Errors are forced by tests/bad_inputs.py's table, whose
verdict also looks for the password. And PGPASSWORD, a password file and a service file connect."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import bad_inputs
import faults
from bad_inputs import CANARY, ROLE, invoke
from schemashift.runtime import warm
from schemashift.dialects.postgres.servers import embedded_bin_dir

# One worker runs the module: its servers are started once.
pytestmark = pytest.mark.xdist_group("secrets")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bad_inputs.Project]:
    server = faults.FaultServer(embedded_bin_dir())
    try:
        with bad_inputs.Project.made(server, tmp_path_factory.mktemp("secrets")) as made:
            yield made
    finally:
        server.close()


def _files_holding_the_password(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and CANARY.encode() in p.read_bytes()]


def _pg_dump_shim(folder: Path, log: Path) -> Path:
    """A pg_dump that records its command line (and whether PGPASSWORD reached it), then runs the real one."""
    folder.mkdir()
    shim = folder / "pg_dump"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {log}\n[ -n "$PGPASSWORD" ] && echo PGPASSWORD-set >> {log}\n'
                    f'exec {embedded_bin_dir() / "pg_dump"} "$@"\n')
    shim.chmod(0o755)
    return folder


def test_no_command_prints_or_writes_the_password(project: bad_inputs.Project, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "work"
    root.mkdir()
    with project.server.fresh_database() as name:
        url = project.server.tcp_url(name, ROLE, CANARY)
        log = tmp_path / "pg_dump.log"
        folder, sql_file = str(project.root / "good"), str(project.root / "good.sql")
        settings = ["--url", url, "--migrations", folder]
        calls = [
            ["up", *settings, "--backup", str(root / "before.dump"), "--pg-bin", str(_pg_dump_shim(tmp_path / "bin", log))],
            ["up", *settings, "--sql"], ["down", *settings, "--sql"], ["status", *settings], ["history", "--url", url],
            ["diff", url, sql_file], ["diff", "--format", "json", url, sql_file], ["dump", url],
            ["dump", "--format", "json", url], ["check", *settings, "--target", sql_file],
            ["sync", *settings, "--target", sql_file], ["test", "--migrations", folder, "--dev-url", url],
            ["new", "more", "--migrations", str(root / "new"), "--target", sql_file, "--dev-url", url],
            ["init", "--migrations", str(root / "new")], ["hash", "--migrations", str(root / "new")],
            ["stamp", "1", *settings], ["baseline", "1", *settings], ["server", "status"],
            ["down", *settings, "--steps", "2"], ["up", *settings, "--traceback", "--to", "99"],
        ]
        outcomes = [(call[0], invoke(call, root, {"SCHEMASHIFT_URL": url})) for call in calls]
        assert [(command, o.code) for command, o in outcomes if CANARY in o.text] == []
        assert [command for command, o in outcomes if o.code not in (0, 1, 2, 3)] == []
        with psycopg.connect(project.server.url(name)) as conn:
            who = conn.execute("SELECT DISTINCT applied_by FROM public.schemashift_history").fetchall()
        assert who == [(ROLE,)]
        dumped = log.read_text()
        assert "PGPASSWORD-set" in dumped and CANARY not in dumped and name in dumped
    assert _files_holding_the_password(tmp_path) == []
    assert CANARY not in (project.server.home / "log").read_text()  # the server's log of those calls


def test_the_warm_process_keeps_no_password(project: bad_inputs.Project, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Path(tempfile.mkdtemp(dir="/tmp", prefix="ssw-"))  # a short path: the socket's must fit 100 bytes
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    env = {**faults._clean_env(), "XDG_CACHE_HOME": str(cache), "SCHEMASHIFT_SERVER_IDLE": "1",
           "DATABASE_URL": project.url(), "PGPASSWORD": CANARY}
    call = [sys.executable, "-m", "schemashift", "history"]
    try:
        first = subprocess.run(call, env=env, capture_output=True, text=True, timeout=60)
        deadline = time.monotonic() + 30
        while not warm.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(call, env=env, capture_output=True, text=True, timeout=60)  # through it
        assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
        assert CANARY not in first.stdout + first.stderr + second.stdout + second.stderr
        (_, pid), = warm.running()
        for part in ("environ", "cmdline"):
            assert CANARY.encode() not in Path(f"/proc/{pid}/{part}").read_bytes(), part
        assert _files_holding_the_password(cache) == []
    finally:
        subprocess.run([sys.executable, "-m", "schemashift", "server", "stop"], env=env, capture_output=True,
                       timeout=60)
        shutil.rmtree(cache, ignore_errors=True)


def test_pgpassword_password_file_and_service_file_connect(project: bad_inputs.Project, tmp_path: Path) -> None:
    server, dbname = project.server, project.databases["good"]
    no_password = f"postgresql://{ROLE}@127.0.0.1:{server.port}/{dbname}"
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{server.port}:*:{ROLE}:{CANARY}\n")
    passfile.chmod(0o600)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pgpass").write_bytes(passfile.read_bytes())
    (home / ".pgpass").chmod(0o600)
    services = tmp_path / "services"
    services.write_text(f"[faults]\nhost=127.0.0.1\nport={server.port}\nuser={ROLE}\npassword={CANARY}\n"
                        f"dbname={dbname}\n")
    ways = {
        "PGPASSWORD": (no_password, {"PGPASSWORD": CANARY}),
        "PGPASSFILE": (no_password, {"PGPASSFILE": str(passfile)}),
        "~/.pgpass": (no_password, {"HOME": str(home)}),
        "service": ("postgresql://?service=faults", {"PGSERVICEFILE": str(services)}),
    }
    for way, (url, env) in ways.items():
        for argv in (["history", "--url", url], ["status", "--url", url, "--migrations", str(project.root / "good")],
                     ["diff", url, str(project.root / "good.sql")]):
            old = {k: os.environ.get(k) for k in env}
            os.environ.update(env)  # libpq reads them from the process's environment
            try:
                outcome = invoke(argv, project.root)
            finally:
                for k, v in old.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            assert outcome.code in (0, 2, 3), (way, argv[0], outcome.err)  # 3: connected, refused the drops
            assert CANARY not in outcome.text
    missing = invoke(["history", "--url", no_password], project.root)  # without them: refused, in one line
    assert missing.problems() == [], missing.err
