"""The planner's ordering on hand-made statements: dependencies first, phases as tie-breakers, and
a cycle named instead of a statement silently left out."""

from __future__ import annotations

import graphlib

import pytest

from schemashift.plan import Statement, order


def st(sql: str, *, creates: tuple[str, ...] = (), requires: tuple[str, ...] = (), phase: int = 50) -> Statement:
    return Statement(sql, "create", ("x", sql), creates=frozenset(("k", c) for c in creates),
                     requires=frozenset(("k", r) for r in requires), phase=phase)


def test_requirements_come_first_then_phase_then_input_order():
    plan = order([st("b", creates=("b",), requires=("a",)), st("late", phase=90), st("a", creates=("a",)),
                  st("early", phase=10)])
    assert [s.sql for s in plan.statements] == ["early", "a", "b", "late"]


def test_a_cycle_is_named():
    statements = [st("free", creates=("f",)), st("one", creates=("1",), requires=("2",)),
                  st("two", creates=("2",), requires=("1",)), st("after", requires=("1",))]
    with pytest.raises(graphlib.CycleError, match="dependency cycle: (one -> two -> one|two -> one -> two)"):
        order(statements)
