"""Learning the ranking from labelled queries: ``vidsearch tune``.

Hand-set fusion weights are guesses; the field learns them (the seed pipeline ends with a
training step). The queries are split (seeded) into a training part and a held-out part. On the
training part, coordinate ascent walks one parameter at a time over a small grid (fusion method,
each list's weight, the RRF constant, how eagerly neighbours merge into a moment) and keeps a
value only when it is strictly better, so ties keep the current choice and the result does not
wander. The held-out part then says whether the learned ranking is better than the current one;
a ranking that is worse there is not saved. Every search is done once: the gathered lists are
re-ranked in memory for each candidate (``Searcher.rank``). Where the library has a fused space,
the share of frames in the fused vector is learned too: candidates re-fuse the stored visual and
spoken vectors in memory and search them exactly; a saved result re-fuses the catalog
(``search.refuse``).
"""
from __future__ import annotations

import dataclasses
import random

import numpy as np

from core.errors import InvalidInput
from ..fusion import fuse
from ..profile import Ranking
from ..rank import STANDARDISE_DEPTH
from ..service import Searcher
from core.vectors import SPOKEN, normalize
from .evaluate import Gathered, gather_queries, match_videos, outcome_of
from .metrics import summarize
from .querysets import QuerySet

WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
RRF_K_GRID = (2, 5, 10, 20, 40, 60, 100)
MERGE_GRID = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
BORDER_GRID = (0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 1.0, 1.5)
SHARE_GRID = (0.2, 0.35, 0.5, 0.65, 0.8)  # share of the frames in a fused vector
MAX_REFUSED = 200_000  # fused vectors re-fused in memory to learn the share; beyond, it is left as is
ROUNDS = 3
MIN_QUERIES = 10


@dataclasses.dataclass
class TuneResult:
    before: Ranking
    after: Ranking
    fused_before: tuple[float, float] | None  # (visual, speech) weights of the fused space
    fused_after: tuple[float, float] | None
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
                "fused_before": self.fused_before, "fused_after": self.fused_after,
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


class FusedParts:
    """The catalog's visual and spoken vectors, to re-fuse the fused space in memory."""

    def __init__(self, searcher: Searcher, weights: tuple[float, float]):
        library = searcher.library
        index = library.indexes.get("fused")
        ids = index.ids() if index is not None and len(index) <= MAX_REFUSED else np.zeros(0, np.int64)
        self.weights = weights
        self.ids = np.asarray(sorted(int(i) for i in ids), np.int64)
        self.visual = _rows(*library.exact_vectors("visual", self.ids))
        self.spoken = _rows(*library.exact_vectors(SPOKEN, self.ids))
        self._fused: dict[float, np.ndarray] = {}

    @property
    def usable(self) -> bool:
        return len(self.ids) > 0 and len(self.spoken) > 0

    def share(self) -> float:
        return self.weights[0] / (self.weights[0] + self.weights[1])

    def matrix(self, share: float) -> np.ndarray:
        if share not in self._fused:
            rows = [fuse(self.visual.get(int(i)), self.spoken.get(int(i)), share, 1.0 - share)
                    for i in self.ids]
            dim = next(len(r) for r in rows if r is not None)
            self._fused[share] = np.stack([r if r is not None else np.zeros(dim, np.float32) for r in rows])
        return self._fused[share]

    def relist(self, gathered: list[Gathered], share: float) -> list[Gathered]:
        """``gathered`` with each hybrid fused list searched again in the space fused at ``share``."""
        if abs(share - self.share()) < 1e-9:
            return gathered
        fused = self.matrix(share)
        out = []
        for g in gathered:
            if "fused" not in g.vectors or "fused" not in g.lists["hybrid"]:
                out.append(g)
                continue
            scores = fused @ normalize(g.vectors["fused"])[0]
            top = np.argsort(-scores, kind="stable")[:max(STANDARDISE_DEPTH, len(g.lists["hybrid"]["fused"]))]
            lists = {**g.lists, "hybrid": {**g.lists["hybrid"],
                                           "fused": [(int(self.ids[i]), float(scores[i])) for i in top]}}
            out.append(dataclasses.replace(g, lists=lists))
        return out


def _rows(ids: np.ndarray, vectors: np.ndarray) -> dict[int, np.ndarray]:
    return {int(i): row for i, row in zip(ids, vectors)}


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


def climb(searcher: Searcher, gathered: list[Gathered], start: Ranking, k: int,
          parts: FusedParts | None = None) -> tuple[Ranking, float | None]:
    """Coordinate ascent from ``start`` (and the fused space's share of frames, given ``parts``)
    on ``gathered``; strictly better steps only. Returns (ranking, share or None)."""
    lists = {name for g in gathered for name in g.lists["hybrid"]}
    share = parts.share() if parts is not None else None
    current = parts.relist(gathered, share) if parts is not None else gathered
    best, best_value = start, objective(_score(searcher, current, start, k))
    for _ in range(ROUNDS):
        moved = False
        for _, options in _candidates(best, lists):
            for option in options:
                value = objective(_score(searcher, current, option, k))
                if value > best_value + 1e-9:
                    best, best_value, moved = option, value, True
        for option in (SHARE_GRID if parts is not None else ()):
            relisted = parts.relist(gathered, option)
            value = objective(_score(searcher, relisted, best, k))
            if value > best_value + 1e-9:
                share, current, best_value, moved = option, relisted, value, True
        if not moved:
            break
    return best, share


def tune(searcher: Searcher, queryset: QuerySet, *, k: int = 10, held_out: float = 0.3, seed: int = 0,
         progress: bool = True) -> TuneResult:
    """Learn a ranking for hybrid search from ``queryset``; nothing is saved here."""
    from tqdm import tqdm

    if not 0.0 < held_out < 1.0:
        raise InvalidInput("the held-out share must be between 0 and 1")
    matched, unmatched, ambiguous = match_videos(searcher, queryset)
    if len(matched) < MIN_QUERIES:
        raise InvalidInput(f"{queryset.path}: only {len(matched)} queries name an indexed video "
                           f"({len(unmatched)} not indexed, {len(ambiguous)} ambiguous); tuning needs "
                           f"at least {MIN_QUERIES}")
    with tqdm(total=len(matched), unit="query", disable=not progress, dynamic_ncols=True) as bar:
        gathered = gather_queries(searcher, matched, ["hybrid"], k, on_query=bar.update)
    train, test = split(gathered, held_out, seed)
    before = searcher.ranking
    weights = searcher.library.fused_weights()
    parts = FusedParts(searcher, weights) if weights is not None else None
    parts = parts if parts is not None and parts.usable else None
    after, share = climb(searcher, train, before, k, parts)
    if parts is None:
        fused_after, new_train, new_test = weights, train, test
    else:
        unchanged = abs(share - parts.share()) < 1e-9
        fused_after = weights if unchanged else (round(share, 4), round(1.0 - share, 4))
        new_train, new_test = parts.relist(train, share), parts.relist(test, share)
    return TuneResult(before, after, weights, fused_after,
                      (_score(searcher, train, before, k), _score(searcher, new_train, after, k)),
                      (_score(searcher, test, before, k), _score(searcher, new_test, after, k)),
                      len(train), len(test), OBJECTIVE)
