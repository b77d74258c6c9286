"""Turning nearest-neighbour hits into ranked, timestamped moments.

Two steps that every search shares: reciprocal-rank fusion (RRF) of several ranked lists,
which combines spaces whose scores are not comparable, and merging of adjacent hits of one
video into one moment, so a long scene is one result rather than five neighbours.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Moment:
    """One result: a time span of one video (the JSON contract of the CLI and API)."""

    video_path: str
    video_id: int
    segment_id: int
    start: float
    end: float
    score: float
    transcript: str
    segment_ids: list[int] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["start"] = round(self.start, 3)
        data["end"] = round(self.end, 3)
        data["score"] = round(float(self.score), 6)
        return data


def rrf(ranked: dict[str, list[int]], weights: dict[str, float], k: int = 60) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion: score(id) = sum_w w / (k + rank); best first."""
    scores: dict[int, float] = {}
    for name, ids in ranked.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(ids, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


_TIE = 1e-6


def _touches(a: Moment, b: Moment, gap: float) -> bool:
    return a.video_id == b.video_id and b.start <= a.end + gap and b.end >= a.start - gap


def _absorb(target: Moment, other: Moment) -> None:
    """Extend ``target`` over ``other``; transcripts stay in time order."""
    first, second = sorted((target, other), key=lambda m: m.start)
    target.transcript = " ".join(t for t in (first.transcript, second.transcript) if t).strip()
    target.start = min(target.start, other.start)
    target.end = max(target.end, other.end)
    target.segment_ids.extend(other.segment_ids)


def merge_adjacent(moments: list[Moment], limit: int, gap: float = 0.05) -> list[Moment]:
    """Up to ``limit`` moments; hits of one video that touch or overlap merge into one.

    ``moments`` must be best first. A hit that touches a kept moment joins it (keeping the
    moment's best score and segment); otherwise it starts a new moment, until ``limit`` exist.
    Hits ranked below the ``limit``-th moment are not merged in, so a strong moment does not
    swallow the weak rest of its video, unless they tie with the moment they touch (two
    segments that share one spoken sentence score the same in the speech space).
    """
    merged: list[Moment] = []
    for moment in moments:
        moment = dataclasses.replace(moment, segment_ids=[moment.segment_id])
        target = next((kept for kept in merged if _touches(kept, moment, gap)), None)
        if len(merged) == limit and (target is None or moment.score < target.score - _TIE):
            break  # only exact ties (one sentence spoken across a cut) still join a full list
        if target is None:
            merged.append(moment)
            continue
        _absorb(target, moment)
        # The grown moment can now bridge to another kept one of the same video: fold it in.
        for other in [m for m in merged if m is not target and _touches(target, m, gap)]:
            _absorb(target, other)
            merged.remove(other)
    return merged
