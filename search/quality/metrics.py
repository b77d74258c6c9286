"""The numbers reported for a query set, on the definitions the field publishes them with.

Two families, because vidsearch answers two questions at once:

* text -> video (MSR-VTT, as CLIP4Clip reports it): R@1/5/10, the share of queries whose right
  video is among the first n results, and MdR/MnR, the median and mean rank of the right video.
* text -> moment (Charades-STA, ActivityNet Captions, QVHighlights, as 2D-TAN / Moment-DETR
  report it): mR@n IoU t, the share of queries where one of the top n moments lies in the right
  video and overlaps a true span with temporal IoU >= t; mIoU of the top moment.

``hit@n`` and ``start<=2s`` are ours. ``hit@n``: one of the top n moments is in the right video
and at least half of it lies inside a true span, i.e. the right moment was found, whatever its
length (IoU calls a 6 s moment inside a 20 s event a miss at 0.3). ``start<=2s``: a person jumps
to a moment's start, so a moment that starts within two seconds of where the event starts is
useful even when its end is far off and its IoU low; ``hit start<=2s`` is that share among the
queries whose top moment is a hit (did the right moment also start at the right second).

Only outcomes are scored here (what came back, where the truth is); running searches and
matching videos belong to the caller, so these definitions can be checked by hand.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable

Span = tuple[float, float]

IOU_THRESHOLDS = (0.3, 0.5, 0.7)
MOMENT_RANKS = (1, 5)
VIDEO_RANKS = (1, 5, 10)
START_TOLERANCE_S = 2.0


def iou(a: Span, b: Span) -> float:
    """Temporal intersection over union of two (start, end) spans, in [0, 1].

    The union is the length covered (len a + len b - overlap). Edge cases: touching spans share
    no time (0.0); a nested span scores inner / outer; two zero-length spans score 1.0 when
    they are the same instant and 0.0 otherwise; a zero-length span inside a longer one scores
    0.0 (an instant covers no time of it).
    """
    (s1, e1), (s2, e2) = a, b
    if e1 < s1 or e2 < s2:
        raise ValueError(f"a span ends before it starts: {a}, {b}")
    inter = max(0.0, min(e1, e2) - max(s1, s2))
    union = (e1 - s1) + (e2 - s2) - inter
    if union <= 0:
        return 1.0 if (s1, e1) == (s2, e2) else 0.0
    return inter / union


def best_iou(span: Span, truths: tuple[Span, ...] | list[Span]) -> float:
    """IoU against the closest true span; 0.0 when there are none."""
    return max((iou(span, t) for t in truths), default=0.0)


@dataclass
class QueryOutcome:
    """What one query returned, reduced to what the metrics need.

    ``video_rank`` is the 1-based rank of the first result from the right video, None when the
    right video is not in the returned list; ``top`` holds the returned moments in rank order
    as (from the right video?, start, end); ``truths`` are the true spans (empty for
    text -> video sets).
    """

    video_rank: int | None
    top: list[tuple[bool, float, float]]
    truths: tuple[Span, ...] = ()
    kind: str | None = None


def summarize(outcomes: list[QueryOutcome], searched_k: int) -> dict[str, float]:
    """Text -> video metrics over all outcomes; moment metrics over those with true spans.

    MdR and MnR count a query whose video was not returned as rank ``searched_k + 1``. Its real
    rank is somewhere beyond, so with such queries both numbers are floors (the truth is at
    least this bad); CLIP4Clip ranks the whole gallery and has no such queries, so compare with
    its numbers only when every query found its video, or search deeper.
    """
    if searched_k < 1:
        raise ValueError(f"searched_k must be >= 1, got {searched_k}")
    if not outcomes:
        return {"queries": 0}
    for o in outcomes:
        if o.video_rank is not None and not 1 <= o.video_rank <= searched_k:
            raise ValueError(f"video_rank {o.video_rank} outside 1..{searched_k} (searched_k)")
    ranks = [o.video_rank if o.video_rank is not None else searched_k + 1 for o in outcomes]
    out: dict[str, float] = {"queries": len(outcomes)}
    for n in VIDEO_RANKS:
        out[f"R@{n}"] = _share(r <= n for r in ranks)
    out["MdR"] = float(statistics.median(ranks))
    out["MnR"] = float(statistics.fmean(ranks))
    moments = [o for o in outcomes if o.truths]
    if moments:
        out.update(_moment_metrics(moments))
    return out


def _moment_metrics(outcomes: list[QueryOutcome]) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in MOMENT_RANKS:
        out[f"hit@{n}"] = _share(any(_is_about(o, s, e) for right, s, e in o.top[:n] if right) for o in outcomes)
    for n in MOMENT_RANKS:
        for t in IOU_THRESHOLDS:
            out[f"mR@{n} IoU{t}"] = _share(
                any(right and best_iou((s, e), o.truths) >= t for right, s, e in o.top[:n])
                for o in outcomes)
    out["mIoU"] = statistics.fmean(_top_iou(o) for o in outcomes)
    out["start<=2s"] = _share(_starts_near(o) for o in outcomes)
    hits = [o for o in outcomes if o.top and o.top[0][0] and _is_about(o, o.top[0][1], o.top[0][2])]
    out["hit start<=2s"] = _share(_starts_near(o) for o in hits) if hits else 0.0
    return out


def is_right(o: QueryOutcome, right_video: bool, start: float, end: float) -> bool:
    """A returned moment is right: in the right video and, for a moment set, about a true span."""
    return right_video and (not o.truths or _is_about(o, start, end))


def _is_about(o: QueryOutcome, start: float, end: float) -> bool:
    """The moment is about the truth: at least half of it lies inside a true span (a short
    moment inside a long event is right, where its IoU alone would call it a miss)."""
    length = end - start
    overlap = max((min(end, e) - max(start, s) for s, e in o.truths), default=0.0)
    return overlap > 0 and overlap >= 0.5 * length if length > 0 else \
        any(s <= start <= e for s, e in o.truths)


def _top_iou(o: QueryOutcome) -> float:
    # A top moment in another video overlaps nothing true, whatever its times.
    if not o.top or not o.top[0][0]:
        return 0.0
    _, start, end = o.top[0]
    return best_iou((start, end), o.truths)


def _starts_near(o: QueryOutcome) -> bool:
    if not o.top or not o.top[0][0]:
        return False
    start = o.top[0][1]
    return min(abs(start - s) for s, _ in o.truths) <= START_TOLERANCE_S


def _share(hits: Iterable[bool]) -> float:
    flags = list(hits)
    return sum(flags) / len(flags)


def by_kind(outcomes: list[QueryOutcome], searched_k: int) -> dict[str, dict[str, float]]:
    """``summarize`` for all outcomes ("all", first), then for each kind present, sorted by name.

    Outcomes without a kind count in "all" only.
    """
    kinds = sorted({o.kind for o in outcomes if o.kind is not None})
    if "all" in kinds:
        raise ValueError('kind "all" is reserved for the whole set; rename that kind')
    out = {"all": summarize(outcomes, searched_k)}
    for kind in kinds:
        out[kind] = summarize([o for o in outcomes if o.kind == kind], searched_k)
    return out
