"""Learning the ranking from labelled queries: ``vidsearch tune``.

Hand-set fusion weights are guesses; the field learns them (the seed pipeline ends with a
training step). The queries are split (seeded) into a training part and a held-out part. On the
training part, coordinate ascent walks one parameter at a time over a small grid (fusion method,
each list's weight, the RRF constant, how eagerly neighbours merge into a moment) and keeps a
value only when it is strictly better, so ties keep the current choice and the result does not
wander. The held-out part then says whether the learned ranking is better than the current one;
a ranking that is worse there is not saved. Every search is done once: the gathered lists are
re-ranked in memory for each candidate (``Searcher.rank``).
"""
from __future__ import annotations

import dataclasses
import random

from ..profile import Ranking
from ..service import Searcher
from .evaluate import Gathered, gather_queries, match_videos, outcome_of
from .metrics import summarize
from .querysets import QuerySet

WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
RRF_K_GRID = (2, 5, 10, 20, 40, 60, 100)
MERGE_GRID = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
BORDER_GRID = (0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 1.0, 1.5)
ROUNDS = 3
MIN_QUERIES = 10


@dataclasses.dataclass
class TuneResult:
    before: Ranking
    after: Ranking
    train: tuple[dict, dict]  # (before, after) summaries on the training part
    held_out: tuple[dict, dict]  # the same on the held-out part
    train_queries: int
    held_out_queries: int
    objective: str

    @property
    def improved(self) -> bool:
        return objective(self.held_out[1]) >= objective(self.held_out[0])

    def as_dict(self) -> dict:
        return {"before": self.before.as_dict(), "after": self.after.as_dict(),
                "train": {"queries": self.train_queries, "before": self.train[0], "after": self.train[1]},
                "held_out": {"queries": self.held_out_queries, "before": self.held_out[0],
                             "after": self.held_out[1]},
                "objective": self.objective, "improved": self.improved}


OBJECTIVE = "hit@1 + mR@1 IoU0.5 + start<=2s (moment sets); R@1 + R@5/10 (video sets)"


def objective(summary: dict) -> float:
    """One number to climb: right moment first, well placed; for text->video sets, right video first."""
    if "mIoU" in summary:
        return summary["hit@1"] + summary["mR@1 IoU0.5"] + summary["start<=2s"]
    return summary.get("R@1", 0.0) + summary.get("R@5", 0.0) / 10


def split(items: list, held_out: float, seed: int) -> tuple[list, list]:
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(len(items) * held_out))
    return [items[i] for i in sorted(order[cut:])], [items[i] for i in sorted(order[:cut])]


def _score(searcher: Searcher, gathered: list[Gathered], ranking: Ranking, k: int) -> dict:
    return summarize([outcome_of(searcher, g, "hybrid", k, ranking)[0] for g in gathered], k)


def _candidates(ranking: Ranking, lists: set[str]) -> list[tuple[str, list[Ranking]]]:
    """For each parameter, the rankings that differ from ``ranking`` in that parameter alone."""
    out = [("fusion", [ranking.replace(fusion=f) for f in ("score", "rrf")])]
    for name in sorted(lists):
        out.append((f"weight {name}", [ranking.replace(weights={**ranking.weights, name: w})
                                       for w in WEIGHT_GRID]))
    if ranking.fusion == "rrf":
        out.append(("rrf_k", [ranking.replace(rrf_k=k) for k in RRF_K_GRID]))
    out.append(("merge", [ranking.replace(merge_close=c) for c in MERGE_GRID]))
    out.append(("border", [ranking.replace(merge_border=b) for b in BORDER_GRID]))
    return out


def climb(searcher: Searcher, gathered: list[Gathered], start: Ranking, k: int) -> Ranking:
    """Coordinate ascent from ``start`` on ``gathered``; strictly better steps only."""
    lists = {name for g in gathered for name in g.lists["hybrid"]}
    best, best_value = start, objective(_score(searcher, gathered, start, k))
    for _ in range(ROUNDS):
        moved = False
        for _, options in _candidates(best, lists):
            for option in options:
                value = objective(_score(searcher, gathered, option, k))
                if value > best_value + 1e-9:
                    best, best_value, moved = option, value, True
        if not moved:
            break
    return best


def tune(searcher: Searcher, queryset: QuerySet, *, k: int = 10, held_out: float = 0.3, seed: int = 0,
         progress: bool = True) -> TuneResult:
    """Learn a ranking for hybrid search from ``queryset``; nothing is saved here."""
    from tqdm import tqdm

    if not 0.0 < held_out < 1.0:
        raise ValueError("the held-out share must be between 0 and 1")
    matched, unmatched, ambiguous = match_videos(searcher, queryset)
    if len(matched) < MIN_QUERIES:
        raise ValueError(f"{queryset.path}: only {len(matched)} queries name an indexed video "
                         f"({len(unmatched)} not indexed, {len(ambiguous)} ambiguous); tuning needs "
                         f"at least {MIN_QUERIES}")
    with tqdm(total=len(matched), unit="query", disable=not progress, dynamic_ncols=True) as bar:
        gathered = gather_queries(searcher, matched, ["hybrid"], k, on_query=bar.update)
    train, test = split(gathered, held_out, seed)
    before = searcher.ranking
    after = climb(searcher, train, before, k)
    return TuneResult(before, after,
                      (_score(searcher, train, before, k), _score(searcher, train, after, k)),
                      (_score(searcher, test, before, k), _score(searcher, test, after, k)),
                      len(train), len(test), OBJECTIVE)
