"""The schema-change corpus (`../shared/corpus` beside the repository) as diff cases for the oracle.

Every case is a pair of SQL texts, A and B; running it loads both into fresh databases and checks
`diff(A, B)` and `diff(B, A)` with `oracle.Cluster.check_both`. Outcomes:
  pass    both directions hold
  fail    the differ's fault (diff/apply raised, something left to diff, catalogs differ)
  noload  the corpus SQL itself does not load on this server (missing extension, ordering, ...)
  skip    the case is not a diff case here (expects an error, offline-only, needs a newer server)

Sources: migra's fixtures, sqldef's psqldef YAML cases, Danbooru (3 versions, pairwise) and Chinook
(3 primary-key styles, pairwise). See each folder's SOURCE.txt.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

import oracle

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
PG15_BIN = "/usr/lib/postgresql/15/bin"

# Roles the corpus grants to or owns objects by: migra's harness role, and psqldef_test.go's list.
MIGRA_ROLES = ["schemainspect_test_role"]
SQLDEF_ROLES = [
    "readonly_user", "app_user", "admin_role", "user-with-dash", "user.with.dot", "user with spaces",
    "CamelCaseUser", "UPPERCASE_USER", "user1", "user2", "user3", "user4", "My User", "reader", "writer",
    "admin", "reader1", "reader2", "writer1", "writer2", "role1", "role2", "power_user", "user@domain.com",
]
SQLDEF_USER = "psqldef_user"  # cases with `user:` run with search_path "foo, public" and a schema foo

# The sqldef files whose pass rate gates the suite (the lead widens this to all files as the differ grows).
SQLDEF_GATED = [
    "tests_tables", "tests_constraints", "tests_indices", "tests_datatypes", "tests_identity", "tests_types",
    "tests_domains", "tests_partition", "tests_comments", "tests_schemas", "tests_extensions", "tests_set",
]
SQLDEF_PASS_RATE = 0.98

# Templates prepared on every cluster: plain, and with psqldef_user's schema foo.
TEMPLATE_PLAIN = "template0"
TEMPLATE_FOO = "ss_template_foo"


@dataclass(frozen=True)
class Case:
    suite: str  # migra | sqldef | danbooru | chinook
    file: str  # sqldef's file stem (tests_tables), else the suite
    name: str
    a: str  # SQL of the "from" side (sqldef: current)
    b: str  # SQL of the "to" side (sqldef: desired)
    filters: dict[str, list[str]] = field(default_factory=dict)  # schemas / exclude_schemas for diff
    min_version: tuple[int, ...] | None = None
    majors: tuple[int, ...] | None = None  # servers the case is meant for (None: any)
    template: str = TEMPLATE_PLAIN
    search_path: str | None = None
    skip: str | None = None  # why this is not a diff case
    cache: bool = False  # keep the loaded databases for other cases (big real schemas)
    lenient: bool = False  # load out-of-order statements and create missing schemas (sqldef)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}" if self.suite == "sqldef" else f"{self.suite}::{self.name}"


@dataclass(frozen=True)
class Result:
    status: str  # pass | fail | noload | skip
    message: str = ""
    major: int | None = None

    @property
    def first_line(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


# --- loaders --------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def migra_cases() -> list[Case]:
    """migra's 26 fixtures: a.sql -> b.sql, with its harness's schema filters."""
    root = CORPUS / "migra" / "fixtures"
    filters = {"singleschema": {"schemas": ["goodschema"]}, "excludeschema": {"exclude_schemas": ["excludedschema"]}}
    cases = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        cases.append(Case(
            suite="migra", file="migra", name=folder.name, a=_read(folder / "a.sql"), b=_read(folder / "b.sql"),
            filters=filters.get(folder.name, {}),
            majors=(15,) if folder.name == "collations" else None,  # ICU collations: Debian's build
        ))
    return cases


def sqldef_files(folder: str = "sqldef") -> list[str]:
    return sorted(p.stem for p in (CORPUS / folder).glob("tests_*.yml"))


def sqldef_specs(folder: str = "sqldef", files: list[str] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(file stem, case name, the case's YAML mapping) of a sqldef corpus folder, in file order."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = []
    for stem in files or sqldef_files(folder):
        data = yaml.load(_read(CORPUS / folder / f"{stem}.yml"), Loader=loader) or {}
        out += [(stem, str(name), spec) for name, spec in data.items()]
    return out


def _version(text: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in str(text).split("."))


def sqldef_cases(files: list[str] | None = None) -> list[Case]:
    """sqldef's psqldef cases as plain diff cases: current -> desired."""
    cases = []
    for stem, name, spec in sqldef_specs("sqldef", files):
        skip = None
        if spec.get("error"):
            skip = f"expects an error: {spec['error']}"
        elif spec.get("offline"):
            skip = "offline-only case (Aurora DSQL)"
        user = spec.get("user")
        cases.append(Case(
            suite="sqldef", file=stem, name=str(name), a=spec.get("current") or "", b=spec.get("desired") or "",
            min_version=_version(spec["min_version"]) if spec.get("min_version") else None,
            template=TEMPLATE_FOO if user else TEMPLATE_PLAIN,
            search_path="foo, public" if user else None,
            skip=skip, lenient=True,
        ))
    return cases


def danbooru_cases() -> list[Case]:
    """Danbooru's structure.sql at three dates, every pair (each case runs both directions)."""
    files = sorted((CORPUS / "danbooru").glob("structure_*.sql"))
    return [
        Case(suite="danbooru", file="danbooru", name=f"{a.stem[10:20]}__{b.stem[10:20]}", a=_read(a), b=_read(b),
             majors=(15,), cache=True)  # needs pgcrypto: Debian's build
        for a, b in itertools.combinations(files, 2)
    ]


def gitlab_cases() -> list[Case]:
    """GitLab's schema at its last migration squash and 8.5 months later (each case runs both directions)."""
    folder = CORPUS / "gitlab"
    return [Case(suite="gitlab", file="gitlab", name="init_structure__structure", a=_read(folder / "init_structure.sql"),
                 b=_read(folder / "structure.sql"), majors=(15,), cache=True)]


def chinook_cases() -> list[Case]:
    """Chinook with plain, identity and serial primary keys, every pair."""
    files = sorted((CORPUS / "chinook").glob("schema_only_*.sql"))

    def short(p: Path) -> str:
        return p.stem.removeprefix("schema_only_PostgreSql").lstrip("_") or "plain"

    return [
        Case(suite="chinook", file="chinook", name=f"{short(a)}__{short(b)}", a=_read(a), b=_read(b), cache=True)
        for a, b in itertools.combinations(files, 2)
    ]


# --- clusters and running a case ------------------------------------------------------------------


def _create_role(conn: psycopg.Connection, role: str, login: bool = False) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE ROLE {}{}").format(
            sql.Identifier(role), sql.SQL(" LOGIN" if login else "")))


def prepare_cluster(server: Any) -> oracle.Cluster:
    """A Cluster on `server` with the corpus's roles and templates (idempotent per server)."""
    cluster = oracle.Cluster(server)
    for role in MIGRA_ROLES + SQLDEF_ROLES:
        _create_role(cluster.admin, role)
    _create_role(cluster.admin, SQLDEF_USER, login=True)
    if not cluster.admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_FOO]).fetchone():
        cluster.admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
            sql.Identifier(TEMPLATE_FOO)))
        with psycopg.connect(cluster.url(TEMPLATE_FOO), autocommit=True) as conn:
            conn.execute("CREATE SCHEMA foo")
    return cluster


def _load(cluster: oracle.Cluster, case: Case, text: str) -> str:
    """A database with `text` loaded; shared across cases (never modified) when the case says so."""
    if not case.cache:
        return cluster.load(text, case.template, case.search_path, case.lenient)
    key = hashlib.sha1(f"{case.template}\0{case.search_path}\0{case.lenient}\0{text}".encode()).hexdigest()
    cache = cluster.loaded
    if key not in cache:
        try:
            cache[key] = cluster.load(text, case.template, case.search_path, case.lenient)
        except oracle.LoadError as exc:
            cache[key] = exc
    found = cache[key]
    if isinstance(found, oracle.LoadError):
        raise found
    return found


def run_case(cluster: oracle.Cluster, case: Case, load_only: bool = False, online: bool = False) -> Result:
    """Run one case on one cluster (`load_only`: only load A and B, "pass" when both load;
    `online`: the plans' `--online` form)."""
    major = cluster.major
    if case.skip:
        return Result("skip", case.skip, major)
    if case.min_version and _version(f"{cluster.version // 10000}.{cluster.version % 10000}") < case.min_version:
        return Result("skip", f"needs PostgreSQL >= {'.'.join(map(str, case.min_version))}", major)
    made = []
    try:
        try:
            db_a = _load(cluster, case, case.a)
            if not case.cache:
                made.append(db_a)
            db_b = _load(cluster, case, case.b)
            if not case.cache:
                made.append(db_b)
        except oracle.LoadError as exc:
            return Result("noload", str(exc), major)
        if load_only:
            return Result("pass", "", major)
        failures = cluster.check_both(db_a, db_b, filters=case.filters, mutable=not case.cache, online=online)
    finally:
        for name in made:
            cluster.drop(name)
    return Result("fail", "\n".join(failures), major) if failures else Result("pass", "", major)


def assert_round_trips(cluster: oracle.Cluster, suite: str, name: str, a: str, b: str, online: bool = False) -> None:
    """The oracle, both directions, on a pair of schemas written in a test."""
    result = run_case(cluster, Case(suite=suite, file=suite, name=name, a=a, b=b), online=online)
    assert result.status == "pass", f"{result.status}: {result.message}"


def run_case_fallback(clusters: list[oracle.Cluster], case: Case, online: bool = False) -> Result:
    """Run on the first cluster (in order) where the case is meant to run and loads."""
    result = Result("skip", "no server for this case")
    for cluster in clusters:
        if case.majors and cluster.major not in case.majors:
            continue
        attempt = run_case(cluster, case, online=online)
        if attempt.status in ("pass", "fail"):
            return attempt
        if result.status == "skip" or attempt.status == "noload" and result.status != "noload":
            result = attempt
    return result


_results: dict[tuple[tuple[int, ...], str], Result] = {}


def run_case_cached(clusters: list[oracle.Cluster], case: Case) -> Result:
    """run_case_fallback, remembered for this process (the summary test reuses per-case results)."""
    key = (tuple(c.major for c in clusters), case.id)
    if key not in _results:
        _results[key] = run_case_fallback(clusters, case)
    return _results[key]


def tally(results: list[tuple[Case, Result]]) -> dict[str, dict[str, int]]:
    """Counts per file and status."""
    counts: dict[str, dict[str, int]] = {}
    for case, result in results:
        row = counts.setdefault(case.file, {"pass": 0, "fail": 0, "noload": 0, "skip": 0})
        row[result.status] += 1
    return counts
