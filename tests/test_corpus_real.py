"""Real schemas through the oracle, both directions: Danbooru's history (pairwise), Chinook's PK styles, GitLab."""

from __future__ import annotations

import pytest

import corpus

DANBOORU = corpus.danbooru_cases()
CHINOOK = corpus.chinook_cases()


def test_all_versions_are_here() -> None:
    assert (len(DANBOORU), len(CHINOOK)) == (3, 3)


@pytest.mark.parametrize("case", DANBOORU, ids=[c.name for c in DANBOORU])
def test_danbooru(case: corpus.Case, pg15) -> None:  # pgcrypto: Debian's build only
    result = corpus.run_case(pg15, case)
    assert result.status == "pass", f"{result.status}: {result.message}"


@pytest.mark.parametrize("case", CHINOOK, ids=[c.name for c in CHINOOK])
def test_chinook(case: corpus.Case, any_pg) -> None:
    result = corpus.run_case(any_pg, case)
    assert result.status == "pass", f"{result.status}: {result.message}"


GITLAB = corpus.gitlab_cases()


@pytest.mark.parametrize("case", GITLAB, ids=[c.name for c in GITLAB])
def test_gitlab(case: corpus.Case, pg15) -> None:
    """The headline: 8.5 months of GitLab's schema, both directions, exact (migra's output fails to apply)."""
    result = corpus.run_case(pg15, case)
    assert result.status == "pass", f"{result.status}: {result.message}"
