"""The rule registry of the PostgreSQL linter: every rule's name, level, message and advice, and the
checks that find it, keyed by the parse-tree kind of the statement they look at.

A check is a plain function `(node, ctx) -> Iterable[Hit]`, registered with `@check(rule, kinds)`;
a rule is data (`Rule`), so the table in docs/lint-rules.md, `--format json` and the tests all read
the same definitions. File-level checks (a transaction left open) register with `@at_end`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Context

Node = dict[str, Any]


class Level(str, Enum):
    """An error fails `lint` (exit 1) and `up --strict`; a warning is printed only."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    name: str
    level: Level
    message: str  # one line: what the statement does to a live database
    advice: str  # why it matters and what to write instead
    squawk: tuple[str, ...] = ()  # the squawk rules it covers (docs/lint-rules.md maps them)
    once: bool = False  # reported at its first statement only, not at every one


@dataclass(frozen=True)
class Hit:
    """What a check found: the rule, where (a byte offset into the text, None for the statement's
    start) and, when the rule's message needs it, a more specific one."""

    rule: str
    location: int | None = None
    message: str | None = None


Check = Callable[[Node, "Context"], Iterable[Hit]]
EndCheck = Callable[["Context"], Iterable[Hit]]

RULES: dict[str, Rule] = {}
CHECKS: dict[str, list[Check]] = {}
END_CHECKS: list[EndCheck] = []


def rule(name: str, level: Level, message: str, advice: str, squawk: tuple[str, ...] = (),
         once: bool = False) -> str:
    """Define a rule; returns its name, for the checks that report it."""
    assert name not in RULES, name
    RULES[name] = Rule(name, level, message, advice, squawk, once)
    return name


def check(*kinds: str) -> Callable[[Check], Check]:
    """Register a check for statements of these parse-tree kinds (`AlterTableStmt`, ...)."""

    def register(func: Check) -> Check:
        for kind in kinds:
            CHECKS.setdefault(kind, []).append(func)
        return func

    return register


def at_end(func: EndCheck) -> EndCheck:
    """Register a check run once the whole text has been read."""
    END_CHECKS.append(func)
    return func
