"""Property: for random schemas A and B, diff(A, B) applies to A and leaves nothing (both oracle checks).

Examples are derandomized (the same on every run and machine), so CI is stable; raise
HYPOTHESIS_MAX_EXAMPLES locally to search further. A failure prints the SQL of A and B; it is shrunk
to a small example except under CI (shrinking a slow property can take many minutes).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, given, note, settings

import oracle
import strategies

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([] if IN_CI else [Phase.shrink, Phase.explain])


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "30")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(pair=strategies.schema_pairs())
def test_random_schemas_round_trip(pg18: oracle.Cluster, pair: tuple[str, str]) -> None:
    a, b = pair
    note(f"--- A:\n{a}\n--- B:\n{b}")
    failures = pg18.check_sql(a, b)  # a LoadError here is a bug in strategies.py: it fails too
    assert not failures, "\n".join(failures)
