"""The planner on generated dependency graphs (random DAGs and graphs with cycles): it returns an
order in which every statement comes after what it needs, or a one-line `PlanCycle` naming
statements that really wait on each other. Never another exception. No database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.errors import PlanCycle, SchemashiftError
from schemashift.plan import Statement, order

KEYS = [("k", str(i)) for i in range(8)]
key_sets = st.frozensets(st.sampled_from(KEYS), max_size=3)


@st.composite
def statements(draw: st.DrawFn) -> list[Statement]:
    """Statements that create, drop, require, release and wait on random keys, each about its own
    object so a cycle's names can be traced back to statements."""
    n = draw(st.integers(0, 10))
    return [Statement(f"s{i}", "alter", ("n", str(i)), creates=draw(key_sets), drops=draw(key_sets),
                      requires=draw(key_sets), releases=draw(key_sets), after_drop=draw(key_sets),
                      phase=draw(st.sampled_from([10, 30, 50])))
            for i in range(n)]


@st.composite
def dags(draw: st.DrawFn) -> list[Statement]:
    """A DAG: statement i creates its own key and requires only keys of earlier statements, shuffled."""
    n = draw(st.integers(0, 12))
    items = [Statement(f"d{i}", "create", ("n", str(i)), creates=frozenset({("k", str(i))}),
                       requires=frozenset(("k", str(j)) for j in draw(st.sets(st.integers(0, max(i - 1, 0))))
                                          if j < i))
             for i in range(n)]
    return draw(st.permutations(items))


def must_precede(items: list[Statement]) -> set[tuple[int, int]]:
    """(before, after) pairs from the rules in plan.py's docstring, computed here independently."""
    pairs = set()
    for a, x in enumerate(items):
        for b, y in enumerate(items):
            if a != b and (x.creates & y.requires or x.releases & y.drops or x.drops & (y.creates | y.after_drop)):
                pairs.add((a, b))
    return pairs


def check(items: list[Statement]) -> None:
    """Either a valid order or a cycle error whose statements each wait on the previous one."""
    pairs = must_precede(items)
    try:
        plan = order(items)
    except PlanCycle as exc:
        assert isinstance(exc, SchemashiftError) and "\n" not in str(exc)
        assert str(exc).startswith("dependency cycle: ")
        index = {s.object_key: i for i, s in enumerate(items)}
        cycle = [index[k] for k in exc.cycle]
        assert len(cycle) >= 3 and cycle[0] == cycle[-1]  # graphlib repeats the first node at the end
        assert all((a, b) in pairs for a, b in zip(cycle, cycle[1:]))  # each must precede the next
        for k in exc.cycle:
            assert " ".join(k) in str(exc)
        return
    position = {id(s): p for p, s in enumerate(plan.statements)}
    assert sorted(position.values()) == list(range(len(items)))
    for a, b in pairs:
        assert position[id(items[a])] < position[id(items[b])], (items[a].sql, items[b].sql)


@settings(max_examples=400, deadline=None)
@given(statements())
def test_random_graphs_order_or_name_a_real_cycle(items: list[Statement]) -> None:
    check(items)


@settings(max_examples=200, deadline=None)
@given(dags())
def test_dags_always_order(items: list[Statement]) -> None:
    plan = order(items)
    assert len(plan.statements) == len(items)
    check(items)


@given(st.integers(2, 8))
def test_a_ring_is_a_cycle_error(n: int) -> None:
    ring = [Statement(f"r{i}", "create", ("n", str(i)), creates=frozenset({("k", str(i))}),
                      requires=frozenset({("k", str((i + 1) % n))})) for i in range(n)]
    try:
        order(ring)
    except PlanCycle as exc:
        assert len(set(exc.cycle)) == n
    else:
        raise AssertionError("a ring of requirements cannot be ordered")
