"""The warm process (schemashift.runtime.warm): a call handed to it behaves exactly like one run in its own
process (output, exit code, working directory, environment, stdin, Ctrl-C), it is started by the
first call and ended by `server stop` or its idle timeout, and never serves edited code."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemashift.runtime import kept_settings, warm

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm processes are Linux-only")


class Home:
    """A private cache folder and working folder; the CLI run as real processes in them."""

    def __init__(self, idle_minutes: str) -> None:
        self.cache = Path(tempfile.mkdtemp(prefix="ss-warm-"))
        self.cwd = self.cache / "work"
        self.cwd.mkdir()
        self.env = {**os.environ, "XDG_CACHE_HOME": str(self.cache), kept_settings.IDLE_ENV: idle_minutes}

    def popen(self, *args: str, **kw: object) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "schemashift", *args], env=self.env, cwd=self.cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)  # type: ignore[call-overload]

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        proc = subprocess.run([sys.executable, "-m", "schemashift", *args], env={**self.env, **(env or {})},
                              cwd=self.cwd, capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    def warm_pids(self) -> list[int]:
        return [pid for _path, pid in self._running()]

    def _running(self) -> list[tuple[str, int]]:
        saved = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(self.cache)
        try:
            return warm.running()
        finally:
            if saved is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = saved

    def wait_ready(self) -> int:
        """The warm process's pid once it listens."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listening = [pid for path, pid in self._running() if os.path.exists(path)]
            if listening:
                return listening[0]
            time.sleep(0.05)
        raise AssertionError("no warm process started")


def children_of(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        if proc.name.isdigit() and f"\nPPid:\t{pid}\n" in status:
            found.append(int(proc.name))
    return found


def started_in(server: int, start: Callable[[], subprocess.Popen[str]]) -> tuple[subprocess.Popen[str], int]:
    """Start a call and find the warm process's child that runs it."""
    before = set(children_of(server))
    caller = start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = set(children_of(server)) - before
        if new:
            (child,) = new
            return caller, child
        time.sleep(0.05)
    raise AssertionError("the call did not reach the warm process")


def gone_soon(pid: int) -> None:
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()


@pytest.fixture
def home() -> Iterator[Home]:
    made = Home("5")
    yield made
    subprocess.run([sys.executable, "-m", "schemashift", "server", "stop"], env=made.env, capture_output=True)
    shutil.rmtree(made.cache, ignore_errors=True)


def write_sources(folder: Path) -> None:
    (folder / "a.sql").write_text('CREATE TABLE "Ünï ""t""" (id int PRIMARY KEY, gone text);\n')
    (folder / "b.sql").write_text('CREATE TABLE "Ünï ""t""" (id int PRIMARY KEY);\nCREATE INDEX ON "Ünï ""t""" (id);\n')


def test_a_warm_call_is_the_same_call(home, pg18):
    """Same output, exit code and error line as in-process, with relative paths from the caller's
    folder and the caller's environment; the call runs in a child of the warm process."""
    write_sources(home.cwd)
    dev = ("--dev-url", pg18.server.admin_url)
    calls = [("diff", *dev, "a.sql", "b.sql"), ("diff", *dev, "--unsafe", "a.sql", "b.sql"),
             ("diff", "empty", "empty"), ("diff", *dev, "a.sql", "missing.sql")]
    in_process = [home.run(*call, env={kept_settings.IDLE_ENV: "0"}) for call in calls]
    assert [code for code, _, _ in in_process] == [3, 2, 0, 1]
    assert home.warm_pids() == []  # nothing started with the setting at 0

    home.run("--version")
    server = home.wait_ready()
    assert [home.run(*call) for call in calls] == in_process

    # The environment is the caller's: a bad dev URL there is reported by the warm call.
    code, _, err = home.run("diff", "a.sql", "b.sql", env={"SCHEMASHIFT_DEV_URL": "postgresql://nobody@/x?host=/nowhere"})
    assert code == 1 and err.count("\n") == 1 and "/nowhere" in err
    assert home.warm_pids() == [server]


def test_stdin_prompt_ctrl_c_and_kill_reach_the_warm_child(home, pg18):
    """`sync` asks on the caller's terminal streams. At the prompt, Ctrl-C aborts it as it would in
    its own process, SIGTERM kills the caller with SIGTERM, and `kill -9` of the caller ends the
    child too. Nothing is applied."""
    write_sources(home.cwd)
    url = pg18.url(pg18.create())
    subprocess.run([sys.executable, "-m", "schemashift", "sync", "--url", url, "--target", "a.sql", "--yes",
                    "--dev-url", pg18.server.admin_url], env={**home.env, kept_settings.IDLE_ENV: "0"}, cwd=home.cwd,
                   check=True, capture_output=True)
    home.run("--version")
    server = home.wait_ready()

    sync = ("sync", "--url", url, "--target", "b.sql", "--unsafe", "--dev-url", pg18.server.admin_url)
    answered = home.popen(*sync, stdin=subprocess.PIPE)
    out, err = answered.communicate("n\n", timeout=120)
    assert answered.returncode == 1 and err.rstrip().endswith("schemashift: aborted"), err
    assert "DROP COLUMN" in out

    for how, expected in ((signal.SIGINT, 1), (signal.SIGTERM, -signal.SIGTERM), (signal.SIGKILL, -signal.SIGKILL)):
        caller, child = started_in(server, lambda: home.popen(*sync, stdin=subprocess.PIPE))
        time.sleep(0.5)  # at the prompt
        caller.send_signal(how)  # SIGKILL cannot be forwarded: the child must notice by itself
        caller.wait(timeout=60)  # stdin stays open meanwhile: closing it would answer the prompt (EOF)
        err = caller.stderr.read()  # type: ignore[union-attr]
        caller.communicate()
        assert caller.returncode == expected, (how, err)
        if how == signal.SIGINT:
            assert err.rstrip().endswith("schemashift: aborted"), err
        gone_soon(child)

    code, out, _ = home.run("diff", "--dev-url", pg18.server.admin_url, url, "a.sql")
    assert code == 0, out  # none of the three syncs applied anything


def test_server_stop_and_idle_end_it(home):
    home.run("--version")
    first = home.wait_ready()
    code, out, _ = home.run("server", "status")
    assert f"(pid {first})" in out
    code, out, _ = home.run("server", "stop")
    assert code == 0 and "stopped warm process" in out
    assert home.warm_pids() == []

    home.env[kept_settings.IDLE_ENV] = "0.02"  # 1.2 s
    home.run("--version")
    home.wait_ready()
    deadline = time.monotonic() + 30
    while home.warm_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert home.warm_pids() == []
    assert not list((home.cache / "schemashift" / "warm").glob("*.sock"))


def test_edited_code_gets_another_warm_process(tmp_path):
    """The socket's name covers every file of the package, so a changed file is never served by
    a warm process of the old code."""
    package = tmp_path / "schemashift"
    shutil.copytree(warm.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = warm._package_state(str(package))
    assert warm._package_state(str(package)) == before
    target = package / "differ.py"
    target.write_text(target.read_text() + "\n")
    assert warm._package_state(str(package)) != before


def test_program_name_and_an_unwritable_cache(home):
    """Click names the program from the caller's way in (`python -m schemashift` or the console
    script), warm or not; a cache that cannot be written costs speed, never the call."""
    script = str(Path(sys.executable).parent / "schemashift")
    for launcher in ([sys.executable, "-m", "schemashift"], [script]):
        runs = []
        for idle in ("0", "5", "5"):
            proc = subprocess.run([*launcher, "diff", "--bogus"], env={**home.env, kept_settings.IDLE_ENV: idle},
                                  cwd=home.cwd, capture_output=True, text=True, timeout=60)
            runs.append((proc.returncode, proc.stderr))
            if idle == "5":
                home.wait_ready()
        assert runs[0] == runs[1] == runs[2], runs
        assert ("'python -m schemashift diff --help'" if len(launcher) == 3 else "'schemashift diff --help'") in runs[0][1]

    not_a_folder = home.cache / "file"
    not_a_folder.write_text("")
    proc = subprocess.run([script, "--version"], env={**home.env, "XDG_CACHE_HOME": str(not_a_folder)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
