"""Changes → an ordered Plan of statements.

Ordering is a dependency graph sorted with `graphlib`, never fixed phases. Each statement says which
object keys it brings into existence (`creates`), removes (`drops`), needs to exist first
(`requires`) and stops needing (`releases`). The edges follow from that alone:

- the statement that creates K runs before every statement that requires K;
- every statement that releases K runs before the statement that drops K;
- the statement that drops K runs before the one that creates K again, and before any statement
  that must come `after_drop` of K (attaching a partition once its parent lost a column).

Among statements that are free to run, the earlier `phase` and then the order of the diff win,
so output is deterministic.
"""

from __future__ import annotations

import graphlib
import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import PlanCycle, UnsafeChanges
from .frozen import frozen
from .lock_label import LockLabel
from .model import Key


@frozen
class Statement:
    """One SQL statement (without its `;`) and what it does to the schema."""

    sql: str
    kind: str  # e.g. "create", "drop", "alter"
    object_key: Key
    destructive: bool = False
    transactional: bool = True
    creates: frozenset[Key] = frozenset()
    drops: frozenset[Key] = frozenset()
    requires: frozenset[Key] = frozenset()
    releases: frozenset[Key] = frozenset()
    after_drop: frozenset[Key] = frozenset()  # keys whose DROP must run before this statement
    phase: int = 50
    why: str = ""  # for destructive statements: what would be lost
    # The statement as its engine's client reads it in a script, when that is not `sql;` (MySQL's
    # DELIMITER lines around a body holding semicolons).
    script: str = ""
    locks: LockLabel | None = None  # what it does to a live table, filled by the dialect

    def as_json(self) -> dict[str, object]:
        return {
            "sql": self.sql + ";",
            "object": list(self.object_key),
            "change": self.kind,
            "destructive": self.destructive,
            "transactional": self.transactional,
            "locks": self.locks.as_json() if self.locks else None,
        }


@dataclass
class Plan:
    """The ordered statements that turn one schema into another."""

    statements: list[Statement] = field(default_factory=list)

    @property
    def sql(self) -> str:
        return self.text()

    def text(self, mark_unsafe: bool = False, explain: bool = False) -> str:
        """The statements as a script; `mark_unsafe` puts a comment saying what is lost above each
        destructive one, for a file a person reviews (a generated migration); `explain` one saying
        what each locks."""
        return "".join(
            (f"-- UNSAFE: {s.why or 'destroys data'}\n" if mark_unsafe and s.destructive else "")
            + (f"-- locks: {s.locks.text() if s.locks else 'unknown'}\n" if explain else "")
            + (s.script or s.sql + ";") + "\n\n"
            for s in self.statements
        )

    @property
    def destructive(self) -> list[Statement]:
        return [s for s in self.statements if s.destructive]

    def __bool__(self) -> bool:
        return bool(self.statements)

    def check_safe(self) -> None:
        """Raise `UnsafeChanges` listing every destructive statement."""
        unsafe = self.destructive
        if unsafe:
            raise UnsafeChanges(
                f"{len(unsafe)} destructive statement(s) refused without --unsafe: "
                + "; ".join(f"{s.sql} ({s.why})" for s in unsafe)
            )

    def to_json(self) -> str:
        return json.dumps({"statements": [s.as_json() for s in self.statements]}, indent=2)


def order(statements: Iterable[Statement]) -> Plan:
    """Sort statements so that every dependency is satisfied; see the module docstring."""
    items = list(statements)
    creators: dict[Key, list[int]] = {}
    droppers: dict[Key, list[int]] = {}
    for i, st in enumerate(items):
        for k in st.creates:
            creators.setdefault(k, []).append(i)
        for k in st.drops:
            droppers.setdefault(k, []).append(i)
    # Written as plain loops: a GitLab-sized plan has thousands of statements with a few keys each.
    preds: list[set[int]] = [set() for _ in items]
    for i, st in enumerate(items):
        mine = preds[i]
        for k in st.requires:
            if k in creators:
                mine.update(creators[k])
        for k in st.releases:
            for d in droppers.get(k, ()):
                preds[d].add(i)
        for keys in (st.creates, st.after_drop):
            for k in keys:
                if k in droppers:
                    mine.update(droppers[k])
    for i, mine in enumerate(preds):
        mine.discard(i)  # a statement that drops and creates one key (or needs what it makes) waits on no one
    ordered = _kahn(preds, [(st.phase, i) for i, st in enumerate(items)])
    if len(ordered) < len(items):  # some statements never became ready: name their cycle
        done = set(ordered)
        left = {i: preds[i] - done for i in range(len(items)) if i not in done}
        try:
            graphlib.TopologicalSorter(left).prepare()
        except graphlib.CycleError as exc:
            cycle = [items[i] for i in exc.args[1]]
            raise PlanCycle(_cycle_message(cycle), tuple(s.object_key for s in cycle)) from None
        raise PlanCycle(_cycle_message([items[i] for i in left]))  # not reached: what is left holds a cycle
    return Plan([items[i] for i in ordered])


def _cycle_message(cycle: list[Statement]) -> str:
    """One line naming each statement of the cycle and the object it is about, for a user to report."""
    steps = " -> ".join(s.sql[:60] for s in cycle)
    objects = ", ".join(dict.fromkeys(" ".join(map(str, s.object_key)) for s in cycle))
    return f"dependency cycle: {steps} (objects: {objects}); no order of the plan can run"


def _kahn(preds: list[set[int]], keys: list[tuple[int, int]]) -> list[int]:
    """Topological order of nodes 0..n-1 that always takes the ready node with the smallest key
    (`keys[n]` ends with `n`, so keys are unique)."""
    waiting = [len(p) for p in preds]
    successors: list[list[int]] = [[] for _ in preds]
    for node, mine in enumerate(preds):
        for pred in mine:
            successors[pred].append(node)
    ready = [keys[n] for n, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        node = heapq.heappop(ready)[-1]
        result.append(node)
        for succ in successors[node]:
            waiting[succ] -= 1
            if waiting[succ] == 0:
                heapq.heappush(ready, keys[succ])
    return result
