"""Bad input across every command, shared by tests/migrations/test_bad_input.py, test_secrets.py and
bench/faults.py: a project on disk with broken variants of everything a command reads, databases
reached with a recognisable password, the table of commands × bad inputs, and the verdict.

The verdict is the CLI's promise: exit 1, one line on stderr starting `schemashift: `, no traceback
and no internal error, no password anywhere in the output, and the database as it was (its schema
and the versions its history says are applied; a failed attempt's log row is not a change).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from click.testing import CliRunner
from psycopg import sql

from schemashift.cli import cli
from schemashift.migrations import checksum
from schemashift.migrations.files import read_folder
from schemashift.migrations.errors import MigrationsError
from schemashift.dialects.postgres.history_sql import PgHistoryTable

from faults import FaultServer, free_port

CANARY = "S3cr3t-Canary-77"  # the password of the role every URL uses; it must never be printed
ROLE = "canary"
HISTORY = "public.schemashift_history"
UP = "CREATE TABLE {t} (id int PRIMARY KEY);"
COMMANDS = ("diff", "dump", "up", "down", "new", "check", "sync", "test", "stamp", "baseline", "hash",
            "status", "history", "init", "server", "lint", "rehearse")


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def problems(self) -> list[str]:
        """What breaks the one-line-error promise (empty when kept)."""
        found = []
        lines = self.err.strip().splitlines()
        if self.code != 1:
            found.append(f"exit {self.code}")
        if len(lines) != 1 or not lines[0].startswith("schemashift: "):
            found.append(f"stderr is not one line: {self.err!r}")
        if "Traceback" in self.text or "internal error" in self.err:
            found.append(f"internal error: {self.err[-300:]!r}")
        if CANARY in self.text:
            found.append("the password was printed")
        return found


def invoke(argv: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> Outcome:
    """The CLI in this process, from `cwd`, exceptions not caught by the runner: what escapes is a bug."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(cli, argv, env=env, input=stdin, catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def _write_folder(path: Path, count: int) -> Path:
    path.mkdir(parents=True)
    for k in range(1, count + 1):
        (path / f"{k:04d}_t{k}.sql").write_text(f"-- schemashift:up\n{UP.format(t=f't{k}')}\n"
                                                f"-- schemashift:down\nDROP TABLE t{k};\n")
    checksum.write(path, read_folder(path))
    return path


def _with_third(root: Path, name: str, third: Callable[[Path], None]) -> Path:
    """The good folder plus a third migration written by `third`, the sum rewritten over it."""
    folder = root / name
    shutil.copytree(root / "good", folder)
    third(folder / "0003_t3.sql")
    with contextlib.suppress(Exception):  # an unreadable third file: the sum keeps the good two
        checksum.write(folder, read_folder(folder))
    return folder


# A hash of every user object's name and shape (relations with their columns, constraints, types,
# routines, schemas): one query, ~50 times cheaper than an inspection, and enough to see what any
# command could have changed.
FINGERPRINT = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
    SELECT 'rel ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce((
        SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text, ', '
                          ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS item
    FROM pg_class c WHERE c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
        AND c.relnamespace::regnamespace::text NOT LIKE 'pg\\_toast%'
    UNION ALL SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT 'type ' || oid::regtype FROM pg_type
        WHERE typnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema') AND typrelid = 0
    UNION ALL SELECT 'proc ' || oid::regprocedure FROM pg_proc
        WHERE pronamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT 'schema ' || nspname FROM pg_namespace
) AS items
"""


@dataclass
class Project:
    """A project folder with good and broken variants of each input, and databases to aim at: `good`
    (two migrations applied by `up`) and `othercols` (a history table of someone else's)."""

    server: FaultServer
    root: Path
    databases: dict[str, str] = field(default_factory=dict)

    @classmethod
    @contextlib.contextmanager
    def made(cls, server: FaultServer, root: Path) -> Iterator[Project]:
        with server.admin() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(CANARY)))
        project = cls(server, root)
        project._write_files()
        with contextlib.ExitStack() as stack:
            for name in ("good", "othercols"):
                project.databases[name] = stack.enter_context(server.fresh_database())
            assert invoke(["up", "--url", project.url("good"), "--migrations", str(root / "good")], root).code == 0
            project.databases["pristine"] = stack.enter_context(server.fresh_database(
                template=project.databases["good"]))
            with psycopg.connect(server.url(project.databases["othercols"]), autocommit=True) as conn:
                conn.execute("CREATE TABLE public.schemashift_history (id int, version text, note text)")
                conn.execute("INSERT INTO public.schemashift_history VALUES (1, 'v1', 'not ours')")
            yield project

    def _write_files(self) -> None:
        root = self.root
        _write_folder(root / "good", 2)
        _with_third(root, "malformed", lambda p: p.write_text("-- schemashift:up\nCREATE TABLE (;\n"
                                                              "-- schemashift:down\nSELECT 1;\n"))
        _with_third(root, "nonutf8", lambda p: p.write_bytes(b"-- schemashift:up\nSELECT '\xff\xfe';\n"
                                                             b"-- schemashift:down\nSELECT 1;\n"))
        _with_third(root, "unreadable", lambda p: p.mkdir())
        (root / "good.sql").write_text(UP.format(t="t1") + "\n" + UP.format(t="t9") + "\n")
        (root / "malformed.sql").write_text("CREATE TABLE t1 (id int PRIMARY KEY;\n")
        (root / "nonutf8.sql").write_bytes(b"CREATE TABLE t1 (note text DEFAULT '\xff');\n")
        (root / "dangling.sql").symlink_to(root / "nowhere.sql")
        (root / "badtoml").mkdir()
        (root / "badtoml" / "schemashift.toml").write_text('url = "postgresql://x\nmigrations = [\n')

    def url(self, database: str = "good", password: str = CANARY) -> str:
        return self.server.tcp_url(self.databases.get(database, database), ROLE, password)

    def fingerprint(self, database: str) -> tuple[object, object]:
        """The schema, and what the history says is applied (or, for a table not ours, its rows)."""
        url = self.server.url(self.databases[database])
        with psycopg.connect(url, autocommit=True) as conn:
            try:
                history: object = {v: row.checksum for v, row in PgHistoryTable.parse(HISTORY).state(conn).applied.items()}
            except MigrationsError:
                history = conn.execute("SELECT * FROM public.schemashift_history ORDER BY 1").fetchall()
            return conn.execute(FINGERPRINT).fetchone()[0], history

    def bad_urls(self) -> dict[str, str]:
        return {
            "bad_url": f"postgresql://{ROLE}:{CANARY}@127.0.0.1:notaport/db",
            "wrong_password": self.url(password="not-" + CANARY),
            "missing_database": self.url("no_such_database"),
            "server_down": f"postgresql://{ROLE}:{CANARY}@127.0.0.1:{free_port()}/db",
        }


@dataclass(frozen=True)
class Case:
    command: str
    kind: str
    argv: tuple[str, ...]
    cwd: Path
    database: str = "good"  # whose fingerprint must not change
    env: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.command}-{self.kind}"


URL_COMMANDS = ("up", "down", "status", "history", "stamp", "baseline", "check", "sync")
FOLDER_COMMANDS = ("up", "down", "status", "stamp", "baseline", "check", "new", "test", "hash")
HISTORY_COMMANDS = ("up", "down", "status", "history", "stamp", "baseline")


def argv(project: Project, command: str, *, url: str | None = None, folder: Path | None = None,
         source: str | None = None) -> list[str]:
    """A call of `command` that would succeed with good inputs, with `url`, `folder` or `source`
    swapped in where the command takes them."""
    root = project.root
    url = url or project.url()
    folder = folder or root / "good"
    source = source or str(root / "good.sql")
    settings = ["--url", url, "--migrations", str(folder)]
    return {
        "diff": ["diff", source, url],
        "dump": ["dump", source],
        "up": ["up", *settings],
        "down": ["down", *settings],
        "status": ["status", *settings],
        "history": ["history", "--url", url],
        "stamp": ["stamp", "1", *settings],
        "baseline": ["baseline", "1", *settings],
        "check": ["check", *settings],
        "sync": ["sync", "--yes", "--target", source, *settings],
        "new": ["new", "more", "--target", source, "--migrations", str(folder), "--dev-url", url],
        "test": ["test", "--migrations", str(folder), "--dev-url", url],
        "hash": ["hash", "--migrations", str(folder)],
        "init": ["init", "--migrations", str(folder)],
        "server": ["server", "status"],
        "lint": ["lint", source, "--dev-url", url],
        "rehearse": ["rehearse", url, source, "--migrations", str(folder)],
    }[command]


def cases(project: Project) -> list[Case]:
    """Every command × every bad input that applies to it."""
    root = project.root
    found: list[Case] = []

    def add(command: str, kind: str, args: list[str], **extra: object) -> None:
        found.append(Case(command, kind, tuple(args), extra.pop("cwd", root), **extra))  # type: ignore[arg-type]

    for kind, bad in project.bad_urls().items():
        for command in (*URL_COMMANDS, "new", "test", "lint", "rehearse"):
            add(command, kind, argv(project, command, url=bad))
        for command in ("diff", "dump"):
            add(command, kind, argv(project, command, source=bad))
    broken_files = {"missing_path": "nowhere", "unreadable": "unreadable", "malformed_sql": "malformed",
                    "non_utf8": "nonutf8"}
    for kind, name in broken_files.items():
        commands = FOLDER_COMMANDS
        if kind == "malformed_sql":  # the file reads; only running or replaying it fails
            commands = ("up", "check", "new", "test")
        for command in commands:
            add(command, kind, argv(project, command, folder=root / name))
        source = {"missing_path": "nowhere.sql", "unreadable": "dangling.sql"}.get(kind, f"{name}.sql")
        for command in ("diff", "dump", "sync", "lint", "rehearse"):
            add(command, kind, argv(project, command, source=str(root / source)))
        for command in ("diff", "lint"):
            add(command, f"{kind}_folder", argv(project, command, source=f"migrations:{root / name}"))
    for command, args in {"up": ["--to", "99"], "down": ["--to", "99"]}.items():
        add(command, "unknown_version", [*argv(project, command), *args])
    for command in ("stamp", "baseline"):
        add(command, "unknown_version", [command, "99", *argv(project, command)[2:]])
    for command in COMMANDS:
        if command not in ("server", "lint"):  # the two read no settings
            add(command, "malformed_toml", argv(project, command), cwd=root / "badtoml")
        add(command, "unknown_option", [*argv(project, command), "--no-such-option"])
    add("down", "conflicting_options", [*argv(project, "down"), "--to", "1", "--steps", "1"])
    add("up", "conflicting_options", [*argv(project, "up"), "--sql", "--backup", str(root / "b.dump")])
    add("server", "unknown_subcommand", ["server", "frobnicate"])
    for command in HISTORY_COMMANDS:
        add(command, "history_other_columns", argv(project, command, url=project.url("othercols")),
            database="othercols")
    return found


def run_case(project: Project, case: Case) -> list[str]:
    """Run one case; what went wrong (empty when the promise held)."""
    before = project.fingerprint(case.database)
    outcome = invoke(list(case.argv), case.cwd, dict(case.env) or None)
    problems = outcome.problems()
    if project.fingerprint(case.database) != before:
        problems.append("the database changed")
    return problems


# --- generated calls, for the property test ----------------------------------------------------------

# Paths are relative: each generated call runs in a fresh copy of the project, on a fresh copy of the
# `good` database, since a call that succeeds may change either.
FOLDERS = ("good", "malformed", "nonutf8", "unreadable", "nowhere")
SOURCES = ("good.sql", "malformed.sql", "nonutf8.sql", "dangling.sql", "nowhere.sql", "empty", "good",
           "migrations:good", "migrations:malformed", "migrations:nowhere", "python:no_such_module:Base")
VERSIONS = ("1", "2", "3", "99", "0", "base", "-1", "x", "")
FLAGS = ("--sql", "--unsafe", "--yes", "--allow-changed", "--empty", "--python", "--format=json", "--format=yaml",
         "--no-such-option", "--traceback", "--steps=1", "--steps=0", "--to=1", "--to=99", "--to=base",
         "--lock-timeout=0", "--lock-timeout=abc", "--history-table=a.b.c", "--history-table=other.history",
         "--schema=public", "--exclude-schema=public", "--pg-bin=/nowhere", "--backup=b.sql", "--backup=/nowhere/b.dump")
CONFIG_KEYS = ("url", "migrations", "history_table", "lock_timeout", "dev_url", "pg_bin", "target", "tool", "unknown")


def calls(project: Project, database: str):  # -> hypothesis strategy of (argv, config text or None)
    """Generated calls of any command: a mix of good and bad URLs, folders, sources, versions and
    flags, in any order, with a generated schemashift.toml (valid TOML of odd types, or garbage)."""
    from hypothesis import strategies as st

    urls = st.sampled_from([project.url(database), project.url("othercols"), *project.bad_urls().values(),
                            "not a url", ""])
    word = st.one_of(urls, st.sampled_from(FOLDERS + SOURCES + VERSIONS + FLAGS))
    option = st.one_of(
        st.tuples(st.sampled_from(["--url", "--dev-url", "--target"]), st.one_of(urls, st.sampled_from(SOURCES))),
        st.tuples(st.just("--migrations"), st.sampled_from(FOLDERS)),
        st.tuples(st.sampled_from(FLAGS)),
        st.tuples(word),
    )
    value = st.one_of(st.sampled_from(FOLDERS + SOURCES + VERSIONS), urls, st.integers(-5, 10**6), st.booleans(),
                      st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(0, 3), max_size=2))
    toml = st.dictionaries(st.sampled_from(CONFIG_KEYS), value, max_size=4).map(
        lambda table: "".join(f"{key} = {_toml(v)}\n" for key, v in table.items()))
    config = st.one_of(st.none(), toml, st.text(max_size=40))
    argv = st.tuples(st.sampled_from(COMMANDS), st.lists(option, max_size=6)).map(
        lambda drawn: [drawn[0], *(part for parts in drawn[1] for part in parts)])
    return st.tuples(argv, config)


def _toml(value: object) -> str:
    import json

    return json.dumps(value)  # strings, numbers, booleans and lists of these are TOML too


RESULT_COMMANDS = ("status", "check", "test", "lint")  # exit 1 with their findings on stdout, nothing on stderr


def judge_call(argv: list[str], outcome: Outcome, changed: bool) -> list[str]:
    """The promise for any call: a known exit code; an error is one line without a traceback; no
    password printed; a call that failed left the database as it was."""
    found = []
    if outcome.code not in (0, 1, 2, 3):
        found.append(f"exit {outcome.code}")
    lines = outcome.err.strip().splitlines()
    if outcome.code in (1, 3) and not (outcome.code == 1 and not lines and argv[0] in RESULT_COMMANDS):
        if len(lines) != 1 or not lines[0].startswith("schemashift: "):
            found.append(f"stderr is not one line: {outcome.err!r}")
    if "Traceback" in outcome.text and "--traceback" not in argv:
        found.append(f"a traceback: {outcome.err[-300:]!r}")
    if "internal error" in outcome.err:
        found.append(f"internal error: {outcome.err!r}")
    if CANARY in outcome.text:
        found.append("the password was printed")
    if outcome.code != 0 and changed:
        found.append("the database changed")
    return found


@contextlib.contextmanager
def sandbox(project: Project, config: str | None) -> Iterator[tuple[Path, str]]:
    """A copy of the project folder (with `config` as its schemashift.toml) and of the good database."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ss-call-") as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(project.root, root, symlinks=True, ignore=shutil.ignore_patterns("badtoml"))
        if config is not None:
            (root / "schemashift.toml").write_text(config)
        with project.server.fresh_database(template=project.databases["pristine"]) as name:  # never connected to
            yield root, name


def run_call(project: Project, argv: list[str], config: str | None) -> list[str]:
    """Run one generated call in a sandbox; what broke the promise."""
    with sandbox(project, config) as (root, name):
        project.databases["sandbox"] = name
        before = project.fingerprint("sandbox")
        outcome = invoke(argv, root)
        return judge_call(argv, outcome, project.fingerprint("sandbox") != before)
