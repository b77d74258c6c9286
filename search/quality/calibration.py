"""Relevance labels against labelled queries: learn their thresholds, and say how often each was right.

Every moment an evaluation returned (not only the first) is one observation: its calibrated
evidence (``search.relevance``) and whether it was right (``metrics.is_right``). Moments below
the first are mostly other topics, so a set of answered queries also yields the wrong moments a
threshold must keep out.
"""
from __future__ import annotations

from ..relevance import calibrate, label, precision_by_label
from .evaluate import Evaluation
from .metrics import is_right


def observations(evaluation: Evaluation, mode: str = "hybrid"):
    """(moment, was it right) for every moment ``mode`` returned."""
    for gathered, outcome, moments in evaluation.results.get(mode, []):
        for moment in moments:
            yield moment, is_right(outcome, moment.video_id == gathered.video_id, moment.start, moment.end)


def learn_thresholds(evaluation: Evaluation, mode: str = "hybrid") -> dict[str, tuple[float, float]]:
    """(strong, good) per calibrated signal, from ``mode``'s moments (signals without enough
    observations are left out, so the settings' values stay for them)."""
    seen = list(observations(evaluation, mode))
    learned = {}
    for signal in ("speech", "keyword"):
        found = calibrate((moment.evidence[signal], right) for moment, right in seen if signal in moment.evidence)
        if found is not None:
            learned[signal] = found
    return learned


def label_precision(evaluation: Evaluation, thresholds: dict[str, tuple[float, float]],
                    mode: str = "hybrid") -> dict[str, tuple[int, float]]:
    """label -> (moments, share right) under ``thresholds``."""
    return precision_by_label((label(moment.evidence, mode, thresholds), right)
                              for moment, right in observations(evaluation, mode))


def format_precision(precision: dict[str, tuple[int, float]]) -> str:
    """One line: each label's share of right moments, and how many moments it had."""
    order = ("strong", "good", "weak", "none")
    return "  ".join(f"{name} {precision[name][1]:.2f} of {precision[name][0]}" for name in order if name in precision)
