"""sqldef's psqldef cases as plain diff cases (current -> desired and back) through the oracle.

Each case runs on PostgreSQL 18 and, if its SQL does not load there (pgcrypto, ICU ...), on 15.
Cases whose SQL loads nowhere, that expect an error, are offline-only or need a newer server are
skipped with the reason. Views, functions, triggers, policies ... run like every other kind: the
per-case tests show what fails, `test_sqldef_pass_rate` is the gate.
"""

from __future__ import annotations

import pytest

import corpus
import oracle

CASES = corpus.sqldef_cases()
GATED = [c for c in CASES if c.file in corpus.SQLDEF_GATED]


def _clusters(pg18: oracle.Cluster, pg15: oracle.Cluster | None) -> list[oracle.Cluster]:
    return [pg18] + ([pg15] if pg15 is not None else [])


def test_all_cases_are_here() -> None:
    assert len(CASES) == 838 and len(corpus.sqldef_files()) == 26


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xdist_group("sqldef-gated")) if c.file in corpus.SQLDEF_GATED else c
     for c in CASES],
    ids=[c.id for c in CASES],
)
def test_sqldef_case(case: corpus.Case, pg18: oracle.Cluster, pg15_or_none: oracle.Cluster | None) -> None:
    result = corpus.run_case_cached(_clusters(pg18, pg15_or_none), case)
    if result.status in ("skip", "noload"):
        pytest.skip(f"{result.status}: {result.first_line}")
    assert result.status == "pass", result.message


@pytest.mark.xdist_group("sqldef-gated")
def test_sqldef_pass_rate(pg18: oracle.Cluster, pg15_or_none: oracle.Cluster | None) -> None:
    """At least 98 % of the gated files' cases that load pass (reusing the per-case results)."""
    clusters = _clusters(pg18, pg15_or_none)
    results = [(case, corpus.run_case_cached(clusters, case)) for case in GATED]
    counts = corpus.tally(results)
    passed = sum(r["pass"] for r in counts.values())
    loaded = passed + sum(r["fail"] for r in counts.values())
    table = "\n".join(f"  {f:24} pass {r['pass']:4} fail {r['fail']:4} noload {r['noload']:3} skip {r['skip']:3}"
                      for f, r in sorted(counts.items()))
    print(f"sqldef gated files: {passed}/{loaded} loaded cases pass\n{table}")
    assert loaded >= 0.9 * len(GATED), f"too few cases load: {loaded} of {len(GATED)}\n{table}"
    failed = [f"{c.id}: {r.first_line}" for c, r in results if r.status == "fail"]
    assert passed >= corpus.SQLDEF_PASS_RATE * loaded, (
        f"{passed}/{loaded} = {passed / loaded:.1%} < {corpus.SQLDEF_PASS_RATE:.0%}\n{table}\n" + "\n".join(failed)
    )
