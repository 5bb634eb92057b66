"""One-off (not committed): every sqldef case through the online oracle."""
import pytest
import corpus
import oracle

SQLDEF = corpus.sqldef_cases()


@pytest.mark.parametrize("case", SQLDEF, ids=[c.id for c in SQLDEF])
def test_sqldef_case_online_all(case, pg18: oracle.Cluster, pg15_or_none) -> None:
    clusters = [pg18] + ([pg15_or_none] if pg15_or_none is not None else [])
    result = corpus.run_case_fallback(clusters, case, online=True)
    if result.status in ("skip", "noload"):
        pytest.skip(f"{result.status}: {result.first_line}")
    assert result.status == "pass", result.message[:3000]
