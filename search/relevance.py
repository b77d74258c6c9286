"""A relevance label a person can read (strong, good, weak) instead of a fused score.

A hybrid score is a sum of standardised list scores or reciprocal ranks: it orders one answer
well but says nothing across queries (a nonsense query's first moment scores as high as a good
query's). Two numbers a moment carries do mean the same thing from query to query: the cosine
between the query and its best sentence in the speech space, and the share of the query's words
that its transcript holds (keyword coverage, hybrid mode). Each has two thresholds, learned from
labelled queries (``calibrate``: the lowest score above which a wanted share of the moments were
right), and a moment's label is the better of the two. Moments found only by CLIP's spaces, by
BM25 in keyword mode or by example (a clip, a segment) get no label: nothing here calibrates
those scores, and a label that is not calibrated would be a guess dressed as a measurement.
"""
from __future__ import annotations

import math
from typing import Iterable

LABELS = ("strong", "good", "weak")
STRONG_PRECISION = 0.9  # share of right moments that the "strong" band must reach on labelled queries
GOOD_PRECISION = 0.6  # ... and the "good" band


def label(evidence: dict[str, float], mode: str, thresholds: dict[str, tuple[float, float]]) -> str | None:
    """``strong``, ``good`` or ``weak`` from the moment's calibrated evidence (see module); None
    when it has none. ``evidence`` holds each list's best raw score for the moment; the keyword
    list's score is a coverage only in hybrid mode (BM25 in keyword mode)."""
    signals = {name: score for name, score in evidence.items()
               if name in thresholds and (name != "keyword" or mode == "hybrid")}
    if not signals:
        return None
    best = len(LABELS) - 1
    for name, score in signals.items():
        strong, good = thresholds[name]
        best = min(best, 0 if score >= strong else 1 if score >= good else 2)
    return LABELS[best]


def calibrate(scored: Iterable[tuple[float, bool]], strong_precision: float = STRONG_PRECISION,
              good_precision: float = GOOD_PRECISION, min_support: int = 5) -> tuple[float, float] | None:
    """(strong, good) thresholds for one signal from (score, was it right) pairs: for each band, the
    lowest score such that at least the wanted share of the moments scoring that or more were
    right (and at least ``min_support`` of them). None when there are too few pairs. A band that
    no threshold reaches is set above every score seen (nothing is called strong on no evidence)."""
    pairs = sorted(scored, key=lambda pair: -pair[0])
    if len(pairs) < min_support:
        return None
    ceiling = math.floor(pairs[0][0] * 1e4 + 1) / 1e4  # above every score seen, after rounding

    def lowest(precision: float) -> float:
        found, right = ceiling, 0
        for n, (score, ok) in enumerate(pairs, 1):
            right += ok
            if n >= min_support and right / n >= precision and (n == len(pairs) or pairs[n][0] < score):
                found = score
        return found

    strong = lowest(strong_precision)
    good = min(strong, lowest(good_precision))
    return tuple(value if value == ceiling else math.floor(value * 1e4) / 1e4 for value in (strong, good))


def precision_by_label(labelled: Iterable[tuple[str | None, bool]]) -> dict[str, tuple[int, float]]:
    """label -> (moments, share right), for the labels that occur (None counted as "none")."""
    counts: dict[str, list[int]] = {}
    for name, ok in labelled:
        seen = counts.setdefault(name or "none", [0, 0])
        seen[0] += 1
        seen[1] += ok
    return {name: (n, right / n) for name, (n, right) in counts.items()}
