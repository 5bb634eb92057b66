"""How the bench compares two commands timed in turns."""

from __future__ import annotations

import statistics


def paired_ratio(slower: list[float], faster: list[float]) -> float:
    """The median of each round's ratio: the runs of one round share the machine's state of the
    moment, so each ratio is a fair comparison even when the machine's speed drifts between rounds."""
    return statistics.median(s / f for s, f in zip(slower, faster, strict=True))
