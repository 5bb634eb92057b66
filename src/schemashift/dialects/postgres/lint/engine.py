"""Lint one text: parse it with pglast (PostgreSQL 18's grammar), run each statement's registered
checks in file order with the context they need, drop what `-- schemashift:ignore` comments
silence, and place every finding at a 1-based line and column.

Ignore comments: `-- schemashift:ignore RULE[, RULE]` silences those rules on the statement it sits
in or just above, or on the statement it trails on the same line; `-- schemashift:ignore-file
RULE[, RULE]` anywhere silences them for the whole file.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pglast import parser

from ....errors import SchemashiftError
from .context import Context
from .registry import CHECKS, END_CHECKS, RULES, Hit, Level, Node, Rule, rule

IGNORE = re.compile(rb"--[ \t]*schemashift:ignore(?P<file>-file)?[ \t]+(?P<rules>[\w-]+(?:[ \t]*,[ \t]*[\w-]+)*)")
SPACE_OR_COMMENT = re.compile(rb"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)

UNKNOWN_IGNORE = rule(
    "unknown-rule-in-ignore", Level.WARNING,
    "an ignore comment names a rule that does not exist",
    "It silences nothing; check the spelling against `schemashift lint --rules`.")


class LintInputError(SchemashiftError):
    """A text the linter cannot read: not SQL PostgreSQL's grammar accepts."""


@dataclass(frozen=True)
class Finding:
    rule: Rule
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class _Statement:
    start: int  # byte offset of its first token
    end: int  # byte offset just past it (its `;` excluded)
    kind: str
    node: Node


def lint_text(text: str, version: int, *, path: str = "<text>", first_line: int = 1, migration: bool = False,
              no_transaction: bool = False, also_ignore: Iterable[str] = ()) -> list[Finding]:
    """The findings of `text` for a server of major `version`; `first_line` is the line of the
    file the text starts at (a migration's up section), `also_ignore` rules silenced for all of it."""
    data = text.encode()
    statements = _parse(text, data, path, first_line)
    comments = [(m.start(), bool(m["file"]), _names(m)) for m in IGNORE.finditer(data)]
    silenced = set(also_ignore) | {name for _, whole, names in comments if whole for name in names}
    per_statement: list[set[str]] = [set() for _ in statements]
    for offset, whole, names in comments:
        index = None if whole else _statement_of(statements, data, offset)
        if index is not None:
            per_statement[index].update(names)
    lines = Lines(data, first_line)
    hits = _hits(statements, Context(version, migration=migration, no_transaction=no_transaction, data=data))
    findings = [_finding(hit, where, lines) for hit, where, index in _once(hits)
                if hit.rule not in silenced and (index is None or hit.rule not in per_statement[index])]
    for offset, _, names in comments:
        for name in names:
            if name not in RULES:
                findings.append(_finding(Hit(UNKNOWN_IGNORE, offset, f"ignore comment names no rule: {name}"),
                                         offset, lines))
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule.name))


def file_ignores(text: str) -> set[str]:
    """The rules a text's `-- schemashift:ignore-file` comments silence (a migration's header counts)."""
    return {name for m in IGNORE.finditer(text.encode()) if m["file"] for name in _names(m)}


def _names(match: re.Match[bytes]) -> list[str]:
    return [name.decode() for name in re.split(rb"[ \t]*,[ \t]*", match["rules"])]


def _parse(text: str, data: bytes, path: str, first_line: int) -> list[_Statement]:
    try:
        raw = json.loads(parser.parse_sql_json(text)).get("stmts", [])
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 else 0  # a character index
        line = first_line + text[:offset].count("\n")
        raise LintInputError(f"{path}:{line}: {exc.args[0]}") from None
    out = []
    for stmt in raw:
        start = stmt.get("stmt_location", 0)
        end = start + stmt["stmt_len"] if stmt.get("stmt_len") else len(data)
        first = SPACE_OR_COMMENT.match(data, start, end)
        [(kind, node)] = stmt["stmt"].items()
        out.append(_Statement(first.end() if first else start, end, kind, node))
    return out


def _statement_of(statements: list[_Statement], data: bytes, offset: int) -> int | None:
    """The statement an ignore comment at `offset` belongs to: the one it trails on the same line,
    else the one it stands in or above."""
    for index, statement in enumerate(statements):
        if statement.end <= offset and b"\n" not in data[statement.end:offset]:
            return index
        if offset < statement.end:
            return index
    return None


def _hits(statements: list[_Statement], ctx: Context) -> list[tuple[Hit, int, int | None]]:
    """Every check's hits with the statement start they fall back to and the statement's index."""
    hits: list[tuple[Hit, int, int | None]] = []
    for index, statement in enumerate(statements):
        ctx.before(statement.kind, statement.node, (statement.start, statement.end))
        for check in CHECKS.get(statement.kind, ()):
            hits.extend((hit, statement.start, index) for hit in check(statement.node, ctx))
        ctx.observe(statement.kind, statement.node, statement.start)
    for end_check in END_CHECKS:
        hits.extend((hit, len(ctx.data), None) for hit in end_check(ctx))
    return hits


def _once(hits: list[tuple[Hit, int, int | None]]) -> list[tuple[Hit, int, int | None]]:
    """Rules reported once per text keep their first hit."""
    seen: set[str] = set()
    out = []
    for hit, where, index in hits:
        if RULES[hit.rule].once:
            if hit.rule in seen:
                continue
            seen.add(hit.rule)
        out.append((hit, hit.location if hit.location is not None and hit.location >= 0 else where, index))
    return out


def _finding(hit: Hit, where: int, lines: Lines) -> Finding:
    rule_ = RULES[hit.rule]
    line, column = lines.position(where)
    return Finding(rule_, line, column, hit.message or rule_.message)


class Lines:
    """Byte offsets to 1-based lines and (character) columns, by bisection over the line starts."""

    def __init__(self, data: bytes, first_line: int) -> None:
        self.data, self.first_line = data, first_line
        self.starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        column = len(self.data[self.starts[index]:offset].decode(errors="replace")) + 1
        return self.first_line + index, column
