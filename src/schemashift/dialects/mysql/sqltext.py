"""MySQL text: backtick quoting, and splitting a script into statements the way the `mariadb`
client would, plus compound bodies (BEGIN ... END) that a schema file writes without DELIMITER."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...frozen import frozen

_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<comment>--(?:[ \t\r][^\n]*)?(?=\n|$)|\#[^\n]*|/\*(?!!).*?(?:\*/|$))
    # /*! ... */ is MySQL's executable comment: code
    |(?P<str>'(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.|"")*"?)
    |(?P<qid>`(?:[^`]|``)*`?)
    |(?P<word>[A-Za-z_$\x80-\U0010ffff][\w$\x80-\U0010ffff]*)
    |(?P<other>.)""",
    re.S | re.X,
)
# Words that open a block closed by END inside a compound body (CASE also in expressions).
_BLOCKS = {"BEGIN", "CASE", "IF", "LOOP", "WHILE", "REPEAT"}
# Where a compound statement (IF, LOOP, ...) can start: after these tokens.
_STATEMENT_START = {";", "BEGIN", "THEN", "ELSE", "DO", ":", "ROW", "LOOP", "REPEAT"}
_COMPOUND_OBJECTS = {"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"}


def quote(name: str) -> str:
    """A backtick-quoted identifier; embedded backticks doubled, so any name round-trips."""
    return "`" + name.replace("`", "``") + "`"


def literal(text: str) -> str:
    """A string literal for the server's default sql_mode (backslash escapes on)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@frozen
class Piece:
    """One statement of a script, without its delimiter, and the line it starts on (1-based)."""

    sql: str
    line: int


def split(script: str) -> list[Piece]:
    """The statements of `script`: split at the delimiter (`;`, or what a `DELIMITER` line sets)
    outside strings, comments and the BEGIN ... END body of a trigger, routine or event."""
    out: list[Piece] = []
    delimiter = ";"
    pos, line = 0, 1
    while pos < len(script):
        start, start_line = pos, line
        m = re.match(r"[ \t\r\n]*DELIMITER[ \t]+(\S+)[ \t]*(?:\n|$)", script[pos:], re.I)
        if m:
            delimiter = m.group(1)
            line += m.group(0).count("\n")
            pos += m.end()
            continue
        end, body_end = _statement_end(script, pos, delimiter)
        text = script[start:body_end]
        first = next((t for t in _TOKEN.finditer(text) if t.lastgroup not in ("space", "comment")), None)
        if first is not None:  # from its first token: a comment before it belongs to no statement
            out.append(Piece(text[first.start():].rstrip(), start_line + text[:first.start()].count("\n")))
        line += script[start:end].count("\n")
        pos = end
    return out


def _statement_end(script: str, pos: int, delimiter: str) -> tuple[int, int]:
    """(index after the delimiter, index where the statement text ends)."""
    depth, prev = 0, ""
    words: list[str] = []
    compound = False
    for m in _TOKEN.finditer(script, pos):
        kind, tok = m.lastgroup, m.group(0)
        if kind in ("space", "comment", "str", "qid"):
            if kind in ("str", "qid"):
                prev = "x"
            continue
        if script.startswith(delimiter, m.start()) and depth == 0:
            return m.start() + len(delimiter), m.start()
        up = tok.upper() if kind == "word" else tok
        if len(words) < 8 and kind == "word":
            words.append(up)
            compound = compound or (words[0] == "CREATE" and up in _COMPOUND_OBJECTS)
        if compound:
            if up == "END":
                depth = max(depth - 1, 0)
            elif up in _BLOCKS and prev != "END" and (up in ("BEGIN", "CASE") or prev in _STATEMENT_START):
                depth += 1
        prev = up
    return len(script), len(script)


def tokens(sql: str) -> Iterator[tuple[str, str]]:
    """(kind, text) of each token that is not space or a comment."""
    for m in _TOKEN.finditer(sql):
        if m.lastgroup not in ("space", "comment"):
            yield m.lastgroup or "other", m.group(0)


def identifiers(sql: str) -> set[str]:
    """Every name `sql` mentions, quoted or bare, lower-cased (a conservative reference list)."""
    out = set()
    for kind, tok in tokens(sql):
        if kind == "qid":
            out.add(tok[1:-1].replace("``", "`").lower())
        elif kind == "word":
            out.add(tok.lower())
    return out


def relation_names(sql: str) -> set[str]:
    """The names a server-printed query reads as tables, views or functions: a name after FROM
    or JOIN, before `.` (a qualifier) or before `(` (a call); lower-cased. Column names, which
    the server prints as `t`.`c` or alone, are left out."""
    toks = list(tokens(sql))
    out = set()
    for i, (kind, tok) in enumerate(toks):
        if kind not in ("qid", "word"):
            continue
        after = toks[i + 1][1] if i + 1 < len(toks) else ""
        before = toks[i - 1][1].upper() if i else ""
        if after in (".", "(") or before in ("FROM", "JOIN"):
            out.add(tok[1:-1].replace("``", "`").lower() if kind == "qid" else tok.lower())
    return out
