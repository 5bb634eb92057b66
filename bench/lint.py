"""`schemashift lint` beside squawk (`squawk-cli` from PyPI) on the same files, finding by finding.

Corpora:
  sqldef        every SQL block (current, desired, up, down) of sqldef's psqldef cases, one file each
  gitlab        GitLab's structure.sql as it is (it creates every table it indexes and constrains)
  gitlab-live   the same statements without its CREATE TABLEs, as if the tables were live: the
                indexes, keys and constraints it adds then land on existing tables
  lint_cases    tests/lint_cases: one file per hazard, and its safe variant

Both tools read every file for the same server version (18; a lint case can ask for another with a
`-- case: pg-version N` line). A finding is placed at its statement (squawk prints 0-based lines);
a squawk finding counts as found by both when schemashift reports, at the same statement, a rule
that docs/lint-rules.md maps to it (rules reported once per file are matched per file), and the
other way round. Prints per rule: found by squawk only / both / schemashift only, then examples of
every squawk-only finding, whose reasons docs/lint-rules.md gives.

Run: .venv/bin/python bench/lint.py | tee bench/results/lint.txt
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from pglast import parser

from schemashift.dialects.postgres.lint import RULES
from schemashift.lint_command import lint_inputs

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or "squawk"
CASE_VERSION = re.compile(r"^-- case: pg-version (\d+)$", re.MULTILINE)
SPACE_OR_COMMENT = re.compile(rb"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)
DEFAULT_VERSION = 18
BATCH = 400

Key = tuple[str, int | None, str]  # file, statement index (None: per file), rule


def statements(text: str) -> list[tuple[int, str, str, dict]]:
    """Each statement's first line (1-based), parse-tree kind, text and parse tree."""
    data = text.encode()
    out = []
    for stmt in json.loads(parser.parse_sql_json(text)).get("stmts", []):
        start = stmt.get("stmt_location", 0)
        end = start + stmt["stmt_len"] if stmt.get("stmt_len") else len(data)
        first = SPACE_OR_COMMENT.match(data, start, end).end()
        [(kind, node)] = stmt["stmt"].items()
        out.append((data.count(b"\n", 0, first) + 1, kind, data[first:end].decode(), node))
    return out


def parses(text: str) -> bool:
    try:
        parser.parse_sql_json(text)
    except parser.ParseError:
        return False
    return bool(text.strip())


def write_sqldef(folder: Path) -> tuple[list[Path], int]:
    folder.mkdir()
    files, skipped = [], 0
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for source in sorted((CORPUS / "sqldef").glob("tests*.yml")):
        for name, case in (yaml.load(source.read_text(), Loader=loader) or {}).items():
            for block in ("current", "desired", "up", "down"):
                text = case.get(block) if isinstance(case, dict) else None
                if not isinstance(text, str) or not text.strip():
                    continue
                if not parses(text):
                    skipped += 1
                    continue
                path = folder / f"{source.stem}__{name}__{block}.sql"
                path.write_text(text)
                files.append(path)
    return files, skipped


def write_gitlab_live(folder: Path) -> Path:
    text = (CORPUS / "gitlab" / "structure.sql").read_text()
    kept = [sql for _, kind, sql, _ in statements(text) if kind != "CreateStmt"]
    path = folder / "structure_live.sql"
    path.write_text(";\n\n".join(kept) + ";\n")
    return path


def version_of(path: Path) -> int:
    match = CASE_VERSION.search(path.read_text())
    return int(match[1]) if match else DEFAULT_VERSION


def run_squawk(files: list[Path], version: int) -> list[dict]:
    found: list[dict] = []
    for start in range(0, len(files), BATCH):
        proc = subprocess.run([SQUAWK, "--reporter", "json", f"--pg-version={version}.0",
                               *map(str, files[start:start + BATCH])], capture_output=True, text=True)
        if proc.returncode not in (0, 1) or not proc.stdout.strip():
            raise SystemExit(f"squawk failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
        found += json.loads(proc.stdout)
    return found


def keys(files: list[Path], version: int) -> tuple[set[Key], set[Key], float, float]:
    """The squawk and schemashift findings of `files` as statement-level keys, with each tool's time."""
    starts = {str(p): [line for line, _, _, _ in statements(p.read_text())] for p in files}

    def at(file: str, line: int) -> int:
        return max(bisect.bisect_right(starts[file], line) - 1, 0)

    once_squawk = {s for r in RULES.values() if r.once for s in r.squawk}
    began = time.perf_counter()
    raw = run_squawk(files, version)
    squawk_seconds = time.perf_counter() - began
    squawk = {(f["file"], None if f["rule_name"] in once_squawk else at(f["file"], f["line"] + 1), f["rule_name"])
              for f in raw}
    began = time.perf_counter()
    ours = lint_inputs([str(p) for p in files], version)
    ours_seconds = time.perf_counter() - began
    mine = {(f.path, None if f.finding.rule.once else at(f.path, f.finding.line), f.finding.rule.name) for f in ours}
    return squawk, mine, squawk_seconds, ours_seconds


def compare(squawk: set[Key], mine: set[Key]) -> tuple[dict[str, Counter], dict[str, Counter], list[Key]]:
    """Per squawk rule and per schemashift rule: counts found by that tool, by both, by it only."""
    covers: dict[str, set[str]] = defaultdict(set)
    for rule in RULES.values():
        for name in rule.squawk:
            covers[name].add(rule.name)
    mine_at = defaultdict(set)
    for file, stmt, rule in mine:
        mine_at[(file, stmt)].add(rule)
    squawk_at = defaultdict(set)
    for file, stmt, rule in squawk:
        squawk_at[(file, stmt)].add(rule)
    by_squawk: dict[str, Counter] = defaultdict(Counter)
    missed = []
    for file, stmt, rule in squawk:
        both = bool(mine_at[(file, stmt)] & covers[rule])
        by_squawk[rule]["found"] += 1
        by_squawk[rule]["both" if both else "only"] += 1
        if not both:
            missed.append((file, stmt, rule))
    by_mine: dict[str, Counter] = defaultdict(Counter)
    for file, stmt, rule in mine:
        both = bool(squawk_at[(file, stmt)] & set(RULES[rule].squawk))
        by_mine[rule]["found"] += 1
        by_mine[rule]["both" if both else "only"] += 1
    return by_squawk, by_mine, missed


def reason(key: Key) -> str:
    """Why schemashift does not report a squawk finding; docs/lint-rules.md says more of each."""
    file, stmt, rule = key
    if rule == "prefer-robust-stmts":
        return "not a schemashift rule"
    covers = {r.name for r in RULES.values() if rule in r.squawk}
    if any((file, stmt, name) in _unignored_keys(file) for name in covers):
        return "silenced by a schemashift:ignore comment"
    if rule in ("require-lock-timeout", "require-statement-timeout"):
        return "no statement locks a table that existed before the file"
    parsed = _statements_of(file)
    _, kind, _, node = parsed[stmt]
    created = [(n["relation"].get("schemaname"), n["relation"]["relname"])
               for _, k, _, n in parsed[:stmt] if k == "CreateStmt"]
    targets = _targets(kind, node)
    if targets and all(any(t[1] == c[1] and (t[0] == c[0] or None in (t[0], c[0])) for c in created)
                       for t in targets):
        return "table created earlier in the same file"
    if rule == "ban-create-domain-with-constraint" and not any(
            c["Constraint"]["contype"] in ("CONSTR_CHECK", "CONSTR_NOTNULL") for c in node.get("constraints", ())):
        return "a domain with only a DEFAULT (no constraint)"
    if rule == "adding-field-with-default" and '"generated_kind": "v"' in json.dumps(node):
        return "a virtual generated column: no rewrite on 18, refused before it (needs-newer-server)"
    if rule == "ban-char-field" and '"char"' in parsed[stmt][2]:
        return 'the one-byte "char" type, not char(n)'
    return "UNEXPLAINED"


@functools.cache
def _statements_of(file: str) -> list[tuple[int, str, str, dict]]:
    return statements(Path(file).read_text())


@functools.cache
def _unignored_keys(file: str) -> set[Key]:
    """schemashift's findings of the file as if its ignore comments silenced nothing."""
    path = Path(file)
    copy = Path(tempfile.mkdtemp()) / path.name
    copy.write_text(path.read_text().replace("schemashift:ignore", "schemashift-not-ignore"))
    starts = [line for line, _, _, _ in _statements_of(file)]
    return {(file, None if f.finding.rule.once else max(bisect.bisect_right(starts, f.finding.line) - 1, 0),
             f.finding.rule.name) for f in lint_inputs([str(copy)], version_of(path))}


def _targets(kind: str, node: dict) -> list[tuple[str | None, str]]:
    """The tables a statement changes, for telling whether the file created them."""
    if kind in ("AlterTableStmt", "IndexStmt", "RenameStmt") and isinstance(node.get("relation"), dict):
        return [(node["relation"].get("schemaname"), node["relation"]["relname"])]
    if kind == "DropStmt" and node["removeType"] == "OBJECT_TABLE":
        parts = [[p["String"]["sval"] for p in o["List"]["items"]] for o in node["objects"]]
        return [(p[-2] if len(p) > 1 else None, p[-1]) for p in parts]
    return []


def table(title: str, rows: dict[str, Counter], only: str) -> str:
    width = max([len(title), *map(len, rows)])
    lines = [f"{title:<{width}}  {'found':>7}  {'both':>7}  {only:>16}"]
    for rule in sorted(rows, key=lambda r: (-rows[r]["found"], r)):
        c = rows[rule]
        lines.append(f"{rule:<{width}}  {c['found']:>7}  {c['both']:>7}  {c['only']:>16}")
    return "\n".join(lines)


def main() -> None:
    version = subprocess.run([SQUAWK, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version} beside schemashift lint; findings counted once per (file, statement, rule)\n")
    with tempfile.TemporaryDirectory() as tmp:
        sqldef, skipped = write_sqldef(Path(tmp) / "sqldef")
        corpora = {
            "sqldef": sqldef,
            "gitlab": [CORPUS / "gitlab" / "structure.sql"],
            "gitlab-live": [write_gitlab_live(Path(tmp))],
            "lint_cases": sorted((REPO / "tests" / "lint_cases").glob("*.sql")),
        }
        print(f"sqldef: {len(sqldef)} SQL blocks of psqldef cases ({skipped} that PostgreSQL 18's grammar "
              "rejects left out)\n")
        all_squawk: set[Key] = set()
        all_mine: set[Key] = set()
        all_missed: dict[str, list[Key]] = {}
        for name, files in corpora.items():
            groups = defaultdict(list)
            for path in files:
                groups[version_of(path)].append(path)
            squawk, mine, seconds_squawk, seconds_mine = set(), set(), 0.0, 0.0
            for group_version, group in sorted(groups.items()):
                s, m, ts, tm = keys(group, group_version)
                squawk |= s
                mine |= m
                seconds_squawk += ts
                seconds_mine += tm
            by_squawk, by_mine, missed = compare(squawk, mine)
            all_squawk |= squawk
            all_mine |= mine
            all_missed[name] = missed
            print(f"== {name}: {len(files)} file(s); squawk {seconds_squawk:.2f} s, schemashift {seconds_mine:.2f} s")
            print(table("squawk rule", by_squawk, "squawk only"))
            print()
            print(table("schemashift rule", by_mine, "schemashift only"))
            print()
        by_squawk, by_mine, _ = compare(all_squawk, all_mine)
        print("== all corpora")
        print(table("squawk rule", by_squawk, "squawk only"))
        print()
        print(table("schemashift rule", by_mine, "schemashift only"))
        print()
        print("== why schemashift does not report each squawk-only finding (docs/lint-rules.md explains)")
        unexplained = 0
        for name, missed in all_missed.items():
            why = Counter((key[2], reason(key)) for key in missed)
            for (rule, because), count in sorted(why.items()):
                print(f"{name:<11}  {rule:<36}  {count:>6}  {because}")
            unexplained += sum(count for (_, because), count in why.items() if because == "UNEXPLAINED")
        print(f"\nunexplained squawk-only findings: {unexplained}")


if __name__ == "__main__":
    main()
