"""The warm process: a resident schemashift with everything imported, running calls in forked children.

Python's start-up and imports (psycopg alone takes 0.15-0.3 s) cost more than a whole diff of two
small schemas on a kept server. So, as with the kept server, the first call pays and the next ones
do not: after a call that ran in its own process, a detached warm process is started. It imports
the CLI and its dependencies once, then waits on a Unix socket in the user's cache folder.

A call (`runtime.launch.main`) connects, sends its arguments, working directory, environment, `sys.path`,
umask and the encodings of its standard streams, and passes the streams themselves as file
descriptors (SCM_RIGHTS). The warm process forks; the child takes all of that on, runs the CLI
exactly as the caller would have, and sends back the exit code. The caller forwards the signals it
gets (Ctrl-C) to the child and exits with the child's code; if the caller is killed outright, the
child ends too. Nothing runs in the warm process itself:
each call starts from the same freshly imported state.

Safety:
- the socket's folder is private (0700) and a caller with another uid is refused (SO_PEERCRED);
- the socket's name is a hash of the interpreter, `sys.path` and every file of this package (path,
  size, mtime), so an upgraded or edited schemashift never runs in a warm process of the old code;
- a warm process exits after $SCHEMASHIFT_SERVER_IDLE minutes without a call (default 10; 0 turns
  warm processes off, like kept servers), and `schemashift server stop` ends it at once;
- only on Linux (fork without exec is not safe everywhere); elsewhere, and whenever anything about
  the warm process fails before the call is handed over, the call runs in its own process.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable

from . import kept_settings

_CODE = struct.Struct("!i")
MARKER = b"schemashift.runtime.launch import serve_warm"  # in a warm process's command line (see start_detached)
_MAX_FDS = 3
# Modules a call may need, imported once by the warm process.
PRELOAD = (
    "schemashift.cli", "schemashift.api", "schemashift.sources", "schemashift.dialects.postgres.servers",
    "schemashift.migrations.commands", "schemashift.migrations.runner", "schemashift.dialects.postgres.steps",
    "schemashift.migrations.progress", "schemashift.dialects.postgres.dialect", "schemashift.schema_json",
    "pglast", "rich.console", "traceback", "importlib.metadata",
    "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.schema", "schemashift.models_render",
)


# Seconds after a call began, with no other call come, at which the warm process reads the kept
# schemas ahead (`schema_cache.read_ahead`): late enough for a short call's writes to be done.
READ_AHEAD_AFTER = 0.2

# The whole schemashift package, not only this folder: any edit to it means another warm process.
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _package_state(package: str = PACKAGE) -> str:
    """What a warm process's behaviour depends on; a change to any of it means another warm process:
    the interpreter and its flags (`-X`, `-W`, UTF-8 mode), the locale's encoding, `sys.path` and the
    times its folders last changed (an installed or upgraded dependency), and every file of this
    package. (`sys.path[0]` is left out: under `python -m` it is the working directory, which the
    child takes on anyway.)"""
    import locale

    digest = hashlib.sha1("\0".join([
        sys.executable, sys.version, repr(sys.flags), repr(sys._xoptions), repr(sys.warnoptions),
        locale.getpreferredencoding(False), *sys.path[1:]]).encode())
    for entry in sys.path[1:]:
        try:
            digest.update(f"\0{os.stat(entry).st_mtime_ns}".encode())
        except OSError:
            pass
    stack = [package]
    while stack:
        folder = stack.pop()
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stack.append(entry.path)
            else:
                st = entry.stat(follow_symlinks=False)
                digest.update(f"\0{entry.path}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def folder() -> str:
    return os.path.join(kept_settings.cache_dir(), "warm")


def _installation() -> str:
    """This interpreter and copy of schemashift: warm processes of another one are left alone."""
    return hashlib.sha1(f"{sys.executable}\0{PACKAGE}".encode()).hexdigest()[:8]


def socket_path() -> str | None:
    """Where this code's warm process listens; None when there can be none: the path is too long
    for a Unix socket, the package cannot be read, or the folder is not this user's alone."""
    try:
        path = os.path.join(folder(), f"{_installation()}-{_package_state()}.sock")
    except OSError:
        return None
    try:
        st = os.stat(folder())
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
    except FileNotFoundError:
        pass  # created private by the first warm process
    except OSError:
        return None
    return path if len(path.encode()) < 100 else None


# --- the caller's side -------------------------------------------------------------------------------


FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH, signal.SIGCONT)


def call(path: str) -> int | None:
    """Run this process's CLI call in the warm process at `path`; its exit code, or None when
    there is no warm process to take it (nothing was run then).

    Signals sent to this process reach the call: those it would act on are forwarded (a signal
    ignored here stays ignored there), Ctrl-Z stops both, and a call killed by a signal kills this
    process with the same signal."""
    if None in (sys.stdin, sys.stdout, sys.stderr):
        return None
    ignored = [int(sig) for sig in (*FORWARDED, signal.SIGTSTP) if signal.getsignal(sig) == signal.SIG_IGN]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        if _peer(sock)[1] != os.getuid():
            raise OSError("the warm process is another user's")
        main = sys.modules.get("__main__")
        request = json.dumps({
            "argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ), "path": sys.path,
            "umask": _umask(), "groups": sorted(os.getgroups()), "ignored": ignored,
            "main_package": getattr(main, "__package__", None),
            "streams": [[s.encoding, s.errors] for s in (sys.stdin, sys.stdout, sys.stderr)],
        }).encode()
        socket.send_fds(sock, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        child = _read_int(sock)
    except OSError:
        sock.close()
        return None
    if child is None:
        sock.close()
        return None
    sent: list[int] = []

    def forward(number: int, _frame: object) -> None:
        sent.append(number)
        _forward(child, number)

    def stop(_number: int, _frame: object) -> None:  # Ctrl-Z: stop the call, then ourselves
        _forward(child, signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, stop)

    with sock:
        for sig in FORWARDED:
            if int(sig) not in ignored:
                signal.signal(sig, forward)
        if int(signal.SIGTSTP) not in ignored:
            signal.signal(signal.SIGTSTP, stop)
        code = _read_int(sock)
    if code is None:
        fatal = [n for n in sent if n not in (signal.SIGWINCH, signal.SIGCONT)]
        if fatal:  # the call died of it: so do we, as we would have running it ourselves
            signal.signal(fatal[-1], signal.SIG_DFL)
            os.kill(os.getpid(), fatal[-1])
        sys.stderr.write("schemashift: the warm process ended the call without an exit code\n")
        return 1
    return code


def _peer(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("iII"))
    return struct.unpack("iII", creds)  # type: ignore[return-value]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _forward(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _read_int(sock: socket.socket) -> int | None:
    data = b""
    while len(data) < _CODE.size:
        chunk = sock.recv(_CODE.size - len(data))
        if not chunk:
            return None
        data += chunk
    return int(_CODE.unpack(data)[0])


def start_detached(path: str) -> None:
    """Start a warm process listening at `path` (see `socket_path`) in the background, unless one
    is running or starting."""
    import fcntl
    import subprocess

    os.makedirs(folder(), mode=0o700, exist_ok=True)
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a warm process for its whole life
    except BlockingIOError:
        return
    finally:
        os.close(fd)
    # From `/` and with this process's `sys.path` (less its first entry) set before anything is
    # imported: nothing in the caller's folder can be imported into a process that serves others.
    proc = subprocess.Popen(
        [sys.executable, *subprocess._args_from_interpreter_flags(), "-c",  # type: ignore[attr-defined]
         ("import sys; sys.path[:] = sys.argv[3:]; from schemashift.runtime.launch import serve_warm; "
          "serve_warm(sys.argv[1], float(sys.argv[2]))"), path, str(kept_settings.idle_minutes() * 60), *sys.path[1:]],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        cwd="/", env=_without_secrets(dict(os.environ)),
    )
    proc.returncode = 0  # never waited for: it outlives us (keeps Popen.__del__ quiet)


def _without_secrets(env: dict[str, str]) -> dict[str, str]:
    """The environment less what carries a password (PGPASSWORD, a URL or conninfo with one): the
    warm process outlives the call that started it, and each call brings its own environment."""
    from ..errors import redact

    return {k: v for k, v in env.items() if k != "PGPASSWORD" and redact(v) == v}


# --- the warm process --------------------------------------------------------------------------------


def serve(path: str, idle_seconds: float, run: Callable[[], None], between: Callable[[], None] = lambda: None) -> None:
    """Import everything, then fork a child per call, which runs `run` (the CLI's main), until
    `idle_seconds` pass without one. The CLI is passed in, not imported: the CLI's `server`
    commands import this module. `between` runs after a call has begun and no other came for
    READ_AHEAD_AFTER seconds (the launcher passes the schema cache's read-ahead)."""
    import fcntl
    import gc
    import importlib
    import select

    lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another warm process serves this code
    with open(path + ".pid", "w") as pid_file:  # before the imports: `server stop` may come meanwhile
        pid_file.write(str(os.getpid()))
    _end_others(path)
    for name in PRELOAD:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # children then leave the imported objects' pages shared
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)  # a crashed predecessor's; the lock says none is serving
    except FileNotFoundError:
        pass
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are never waited for: no zombies
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    read_ahead = False  # after a call: the schemas it kept, unpickled here for the next calls
    try:
        while True:
            if not select.select([listener], [], [], READ_AHEAD_AFTER if read_ahead else idle_seconds)[0]:
                if not read_ahead:
                    break
                between()
                gc.freeze()
                read_ahead = False
                continue
            conn, _ = listener.accept()
            if _peer(conn)[1:] != (os.getuid(), os.getgid()) or os.fork() != 0:
                conn.close()
                read_ahead = True
                continue
            listener.close()
            os.close(lock)  # a call outliving this process must not keep the next one from starting
            _child(conn, run)
    finally:
        for leftover in (path, path + ".pid"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def _end_others(path: str) -> None:
    """Warm processes of this installation's older code are of no further use: end them."""
    here, name = os.path.split(path)
    for other in os.listdir(here):
        if other.endswith(".pid") and other.startswith(name.split("-")[0] + "-") and other != name + ".pid":
            stop(os.path.join(here, other))


def stop(pid_path: str) -> bool:
    """End the warm process whose pid file is `pid_path`; whether one was running."""
    pid = kept_settings.recorded_pid(pid_path, MARKER)
    try:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            return True
    except ProcessLookupError:
        pass
    try:
        os.unlink(pid_path)
    except FileNotFoundError:
        pass
    return False


def running() -> list[tuple[str, int]]:
    """(socket, pid) of every warm process in this user's cache."""
    found = []
    try:
        names = os.listdir(folder())
    except (FileNotFoundError, NotADirectoryError):  # no folder, or a file in its way: none can run there
        return []
    for name in names:
        pid = kept_settings.recorded_pid(os.path.join(folder(), name), MARKER) if name.endswith(".pid") else None
        if pid is not None:
            found.append((os.path.join(folder(), name[:-4]), pid))
    return sorted(found)


def _child(conn: socket.socket, run: Callable[[], None]) -> None:
    """Become the caller's process, run its CLI call, send back the exit code. Never returns."""
    code, started = 1, False
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocesses must be waitable again
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        request = _receive(conn)
        if request["groups"] != sorted(os.getgroups()):
            raise OSError("a caller with other groups")  # runs in its own process instead
        for number in request["ignored"]:
            signal.signal(number, signal.SIG_IGN)
        sys.modules["__main__"].__package__ = request["main_package"]  # click names the program by it
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(request["umask"])
        sys.argv = request["argv"]
        sys.path[:] = request["path"]
        _reopen_streams(request["streams"])
        conn.sendall(_CODE.pack(os.getpid()))
        started = True
        threading.Thread(target=_end_with_caller, args=(conn,), daemon=True).start()
        code = _run_cli(run)
    except BaseException:  # noqa: BLE001 - never raised in a forked child
        if started:  # before, the caller runs the call itself and must see nothing of this
            import traceback

            traceback.print_exc()
    finally:
        try:
            if started:  # else the caller runs the call itself
                sys.stdout.flush()
                sys.stderr.flush()
                conn.sendall(_CODE.pack(code))
        finally:
            os._exit(0)


def _end_with_caller(conn: socket.socket) -> None:
    """A caller killed outright (`kill -9`) cannot forward that: its end of the socket closes
    instead, and the call ends as abruptly as it would have in the caller's own process. (A caller
    that finished closes its end only after reading the exit code, when nothing is left to do.)"""
    try:
        conn.recv(1)
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _receive(conn: socket.socket) -> dict:  # type: ignore[type-arg]
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, _MAX_FDS)
    if len(fds) != 3 or len(data) < 4:
        raise OSError("a call without its standard streams")
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    (size,) = struct.unpack("!I", data[:4])
    data = data[4:]
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("the call's request was cut short")
        data += chunk
    return json.loads(data)  # type: ignore[no-any-return]


def _reopen_streams(streams: list[list[str]]) -> None:
    """Text streams over the caller's descriptors, with the caller's encodings; stdout is line
    buffered on a terminal and stderr always, as Python makes them."""
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = streams
    sys.stdin = open(0, encoding=in_enc, errors=in_err, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding=out_enc, errors=out_err, closefd=False,  # noqa: SIM115
                      buffering=1 if os.isatty(1) else -1)
    sys.stderr = open(2, "w", encoding=err_enc, errors=err_err, closefd=False, buffering=1)  # noqa: SIM115


def _run_cli(run: Callable[[], None]) -> int:
    """The CLI's exit code, as the interpreter would have made it from what `run` raised."""
    import atexit

    try:
        run()
        return 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        atexit._run_exitfuncs()
