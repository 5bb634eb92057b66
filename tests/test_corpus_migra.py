"""migra's 26 fixtures through the oracle, both directions (collations on PostgreSQL 15, for ICU)."""

from __future__ import annotations

import pytest

import corpus

CASES = corpus.migra_cases()


def test_all_fixtures_are_here() -> None:
    assert len(CASES) == 26, [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_migra_fixture(case: corpus.Case, request: pytest.FixtureRequest) -> None:
    cluster = request.getfixturevalue("pg15" if case.majors == (15,) else "pg18")
    result = corpus.run_case(cluster, case)
    assert result.status == "pass", f"{result.status}: {result.message}"
