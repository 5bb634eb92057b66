"""A small SQLite tokenizer: enough to split a CREATE statement into its parts and to print an
expression the same way whatever its spacing or identifier quoting."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s+|--[^\n]*|/\*.*?\*/
    |(?P<str>[xX]?'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    |(?P<word>[A-Za-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*)
    |(?P<num>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<op><=|>=|<>|!=|==|\|\||<<|>>|->>|->|[-+*/%<>=~&|(),;.?:@$#])""",
    re.S | re.X,
)


def quote(name: str) -> str:
    """A double-quoted SQLite identifier; embedded quotes doubled, so any name round-trips."""
    return '"' + name.replace('"', '""') + '"'


def tokens(sql: str) -> list[str]:
    """The statement's tokens, without whitespace or comments; quoted identifiers re-quoted with
    double quotes and bare words kept as written."""
    out = []
    for m in _TOKEN.finditer(sql):
        if m.group("qid") is not None:
            out.append(quote(unquote(m.group("qid"))))
        elif m.lastgroup is not None:
            out.append(m.group(0))
    return out


def unquote(tok: str) -> str:
    """The name a (possibly quoted) identifier token stands for."""
    if tok[:1] in "\"`" and len(tok) > 1:
        return tok[1:-1].replace(tok[0] * 2, tok[0])
    if tok[:1] == "[":
        return tok[1:-1]
    return tok


def join(toks: list[str]) -> str:
    """Tokens printed with single spaces, none inside parentheses or before commas: one spelling."""
    out = ""
    for t in toks:
        if out and not (t in ",)." or out.endswith(("(", ".")) ):
            out += " "
        out += t
    return out


def split_top(toks: list[str], sep: str = ",") -> list[list[str]]:
    """Split at `sep` tokens outside parentheses."""
    parts: list[list[str]] = [[]]
    depth = 0
    for t in toks:
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        if t == sep and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def paren_group(toks: list[str], start: int) -> tuple[list[str], int]:
    """The tokens inside the parenthesis opening at `start`, and the index after its close."""
    depth = 0
    for i in range(start, len(toks)):
        if toks[i] == "(":
            depth += 1
        elif toks[i] == ")":
            depth -= 1
            if depth == 0:
                return toks[start + 1:i], i + 1
    return toks[start + 1:], len(toks)


def upper_words(toks: list[str]) -> list[str]:
    """Bare words upper-cased (SQLite keywords and function names ignore case)."""
    return [t.upper() if t[:1].isalpha() or t[:1] == "_" else t for t in toks]
