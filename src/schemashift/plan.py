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
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .errors import UnsafeChanges
from .model import Key


@dataclass(frozen=True)
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

    def as_json(self) -> dict[str, object]:
        return {
            "sql": self.sql + ";",
            "object": list(self.object_key),
            "change": self.kind,
            "destructive": self.destructive,
            "transactional": self.transactional,
        }


@dataclass
class Plan:
    """The ordered statements that turn one schema into another."""

    statements: list[Statement] = field(default_factory=list)

    @property
    def sql(self) -> str:
        return self.text()

    def text(self, mark_unsafe: bool = False) -> str:
        """The statements as a script; `mark_unsafe` puts a comment saying what is lost above each
        destructive one, for a file a person reviews (a generated migration)."""
        return "".join(
            (f"-- UNSAFE: {s.why or 'destroys data'}\n" if mark_unsafe and s.destructive else "") + s.sql + ";\n\n"
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
    creators: dict[Key, list[int]] = defaultdict(list)
    droppers: dict[Key, list[int]] = defaultdict(list)
    for i, st in enumerate(items):
        for k in st.creates:
            creators[k].append(i)
        for k in st.drops:
            droppers[k].append(i)
    graph: dict[int, set[int]] = {i: set() for i in range(len(items))}
    for i, st in enumerate(items):
        for k in st.requires:
            graph[i].update(c for c in creators.get(k, ()) if c != i)
        for k in st.releases:
            for d in droppers.get(k, ()):
                if d != i:
                    graph[d].add(i)
        for k in st.creates | st.after_drop:
            graph[i].update(d for d in droppers.get(k, ()) if d != i)
    ordered = _kahn(graph, key=lambda i: (items[i].phase, i))
    if len(ordered) < len(items):  # some statements never became ready: name their cycle
        left = {i: graph[i] - set(ordered) for i in set(graph) - set(ordered)}
        try:
            graphlib.TopologicalSorter(left).prepare()
        except graphlib.CycleError as exc:
            cycle = " -> ".join(items[i].sql[:60] for i in exc.args[1])
            raise graphlib.CycleError(f"dependency cycle: {cycle}") from None
    return Plan([items[i] for i in ordered])


def _kahn(graph: dict[int, set[int]], key: Callable[[int], tuple[int, int]]) -> list[int]:
    """Topological order that always takes the ready node with the smallest key."""
    waiting = {node: len(preds) for node, preds in graph.items()}
    successors: dict[int, list[int]] = defaultdict(list)
    for node, preds in graph.items():
        for pred in preds:
            successors[pred].append(node)
    ready = [(key(n), n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        _, node = heapq.heappop(ready)
        result.append(node)
        for succ in successors[node]:
            waiting[succ] -= 1
            if waiting[succ] == 0:
                heapq.heappush(ready, (key(succ), succ))
    return result
