"""Turning nearest-neighbour hits into ranked, timestamped moments.

Two steps that every search shares: fusion of several ranked lists (by standardised scores, or
reciprocal ranks), which combines spaces whose scores are not comparable, and merging of adjacent hits of one
video into one moment, so a topic or scene is one result rather than five neighbours, while a
moment stays short enough to be useful and never swallows a whole video.
"""
from __future__ import annotations

import bisect
import dataclasses
from typing import Iterable

import numpy as np

from core.catalog import STRONG_CUT


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
    border: float = 1.0  # strength of the cut the moment starts at (internal: where it may grow)
    screen_text: str = ""  # the text on screen while it plays (OCR)
    unit: tuple[float, float] | None = None  # the short shot or part it lies in (internal, see ``unit_of``)
    matched: dict[str, int] = dataclasses.field(default_factory=dict)  # list -> its best segment's rank there
    evidence: dict[str, float] = dataclasses.field(default_factory=dict)  # list -> its best raw score (internal)
    relevance: str | None = None  # strong, good or weak (see ``search.relevance``); None: not calibrated
    language: str | None = None  # the language its speech is in (None: no speech, or not known)
    appearance: int | None = None  # the face appearance it shows (``similar --face``); None otherwise
    person: dict | None = None  # whose face that is: {"id", "name"} (``similar --face``)
    voice: dict | None = None  # whose voice speaks: {"id", "name"} (``similar --voice``)
    chapter: str | None = None  # the title of the chapter it starts in (``indexer.chapters``)

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        del data["border"], data["unit"], data["evidence"]
        for face_only in ("appearance", "person", "voice", "chapter"):
            if data[face_only] is None:
                del data[face_only]
        data["start"] = round(self.start, 3)
        data["end"] = round(self.end, 3)
        data["score"] = round(float(self.score), 6)
        return data


FUSION_METHODS = ("score", "rrf")
_INCIDENTAL = 0.2  # a keyword hit holding no more than this share of the query is incidental


def keyword_evidence(coverage: float) -> float:
    """How much a keyword hit counts, from the share of the query it holds (``keyword.coverage``):
    nothing up to a fifth (one everyday word of a paraphrase, found in another topic's sentence:
    counting it flips near-ties of the meaning lists), then growing with the square of the
    rest, so a rare term typed exactly (most of its query) counts fully."""
    return max(0.0, (coverage - _INCIDENTAL) / (1.0 - _INCIDENTAL)) ** 2


def rrf(ranked: dict[str, list[int]], weights: dict[str, float], k: int = 60,
        evidence: dict[int, float] | None = None) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion: score(id) = sum_w w / (k + rank); best first.

    ``evidence`` scales the keyword list's contribution per item (its query coverage, counted
    as ``keyword_evidence`` says)."""
    scores: dict[int, float] = {}
    for name, ids in ranked.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(ids, start=1):
            scale = keyword_evidence(evidence.get(item, 1.0)) if evidence is not None and name == "keyword" else 1.0
            scores[item] = scores.get(item, 0.0) + weight * scale / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


STANDARDISE_DEPTH = 100  # a list's scores are standardised against its best this many


def score_fusion(lists: dict[str, list[tuple[int, float]]], weights: dict[str, float]) -> list[tuple[int, float]]:
    """Weighted sum of per-list evidence; best first.

    A vector list's scores are standardised ((s - mean) / std over the list's best
    ``STANDARDISE_DEPTH``), so a hit that stands out from the rest counts more than one that is
    merely first in a flat list: the list's confidence for this query is in the number. An item
    a list did not return gets that list's lowest value. The keyword list's scores are the share
    of the query a segment holds (``keyword.coverage``, in [0, 1]), counted as
    ``keyword_evidence`` says (on the bench's paraphrases, plain shares cost right answers).
    The statistics use a fixed depth so that a deeper search (a later page) scores alike.
    """
    totals: dict[int, float] = {}
    for name, hits in lists.items():
        if not hits:
            continue
        weight = weights.get(name, 1.0)
        values = np.array([s for _, s in hits], np.float64)
        if name == "keyword":
            values = np.array([keyword_evidence(v) for v in values])
        else:
            head = values[:STANDARDISE_DEPTH]
            values = (values - head.mean()) / max(float(head.std()), 1e-6)
            values -= values.min()  # measured from the list's lowest: scores stay >= 0
        for (item, _), value in zip(hits, values):
            totals[item] = totals.get(item, 0.0) + weight * float(value)
    return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))


def score_spread(order: list[tuple[int, float]], depth: int = 10) -> float:
    """How far scores fall from the first to the ``depth``-th hit: the scale on which two
    scores are "close", whatever the list's units (cosine, BM25, fused)."""
    if not order:
        return 0.0
    spread = order[0][1] - order[min(len(order), depth) - 1][1]
    return spread if spread > 1e-9 else max(abs(order[0][1]), 1.0) * 1e-3


def unit_of(start: float, cuts: list[float], duration: float, max_len: float) -> tuple[float, float] | None:
    """The stretch between the strong cuts around a segment starting at ``start`` (``cuts``: the
    starts of a video's segments at strong cuts, sorted), when the video is cut into such
    stretches (a cut past its start) and this one is no longer than ``max_len``; else None.

    Footage cut into short shots or parts (a slide per topic, a scene) says where its units
    are more surely than sentence borders do: on the bench's lectures a shot change separates
    topics perfectly, while sentence borders inside a topic and between topics overlap in strength."""
    if not any(c > 0 for c in cuts):
        return None
    i = bisect.bisect_right(cuts, start + 1e-6)
    begin = cuts[i - 1] if i else 0.0
    end = cuts[i] if i < len(cuts) else duration
    return (begin, end) if end - begin <= max_len + 1e-6 else None


def mark_matches(moments: list[Moment], lists: dict[str, list[tuple[int, float]]]) -> list[Moment]:
    """Say why each moment is there: per list ("speech", "keyword", ...), the 1-based rank its
    best segment has in that list and that list's best raw score among its segments (lists that
    did not return it are left out)."""
    ranks = {name: {item: n for n, (item, _) in reversed(list(enumerate(hits, 1)))} for name, hits in lists.items()}
    scores = {name: dict(reversed(hits)) for name, hits in lists.items()}
    for moment in moments:
        moment.matched = {name: min(at[s] for s in moment.segment_ids if s in at)
                          for name, at in ranks.items() if any(s in at for s in moment.segment_ids)}
        moment.evidence = {name: max(scores[name][s] for s in moment.segment_ids if s in scores[name])
                           for name in moment.matched}
    return moments


def whole_unit(moment: Moment) -> Moment:
    """``moment`` widened to the short shot or part it lies in (``unit_of``), if any."""
    if moment.unit is not None:
        moment.start, moment.end = moment.unit
        moment.border = max(moment.border, STRONG_CUT)
    return moment


def _touches(a: Moment, b: Moment, gap: float) -> bool:
    return a.video_id == b.video_id and b.start <= a.end + gap and b.end >= a.start - gap


def _floor(moment: Moment, close: float, spread: float) -> float:
    """The lowest score a neighbour may have to join ``moment``."""
    return moment.score - (1.0 - close) * spread


def _border_between(kept: Moment, other: Moment) -> float:
    """The strength of the cut between a moment and a neighbour that touches it."""
    return other.border if other.start >= kept.end - 1e-6 else kept.border


def _absorb(target: Moment, other: Moment) -> None:
    """Extend ``target`` over ``other``; transcripts stay in time order."""
    first, second = sorted((target, other), key=lambda m: m.start)
    target.border = first.border
    target.transcript = " ".join(t for t in (first.transcript, second.transcript) if t).strip()
    shown = dict.fromkeys(part for m in (first, second) for part in m.screen_text.split(" · ") if part)
    target.screen_text = " · ".join(shown)  # a slide shown across both is said once
    target.start = min(target.start, other.start)
    target.end = max(target.end, other.end)
    target.segment_ids.extend(other.segment_ids)


def merge_adjacent(moments: Iterable[Moment], limit: int, max_len: float = 30.0, close: float = 0.8,
                   spread: float = 1.0, border: float = float("inf"), gap: float = 0.05) -> list[Moment]:
    """Up to ``limit`` moments; a hit joins a kept moment of its video that it touches when it
    scores close to it (less than ``(1 - close) * spread`` below it, ``spread`` being the
    list's own scale, see ``score_spread``), the cut between them is weaker than ``border``
    (a shot change or a new topic ends a moment) and the moment stays within ``max_len``
    seconds. Otherwise it is a moment of its own; one that lies in a short shot or part
    (``Moment.unit``, see ``unit_of``) spans it whole, from the cut that starts it, and later
    hits inside it join it.

    ``moments`` must be best first. A moment keeps its best hit's score and segment. Since a hit
    only joins a better one, the first ``limit`` moments do not depend on ``limit`` except by
    growing: a page computed with a larger limit never repeats a moment of an earlier page.
    """
    merged: list[Moment] = []
    lowest_floor = float("inf")
    for moment in moments:
        if len(merged) == limit and moment.score < lowest_floor:
            break  # best first: nothing after this can join any kept moment
        moment = dataclasses.replace(moment, segment_ids=[moment.segment_id])
        inside = next((kept for kept in merged if kept.video_id == moment.video_id
                       and kept.start - 1e-6 <= moment.start and moment.end <= kept.end + 1e-6), None)
        if inside is not None:  # already shown: its unit was taken whole
            _absorb(inside, moment)
            continue
        target = next((kept for kept in merged if _touches(kept, moment, gap)
                       and moment.score >= _floor(kept, close, spread)
                       and _border_between(kept, moment) < border
                       and max(kept.end, moment.end) - min(kept.start, moment.start) <= max_len + 1e-6),
                      None)
        if target is not None:
            _absorb(target, moment)
        elif len(merged) < limit:
            merged.append(whole_unit(moment))
            lowest_floor = min(lowest_floor, _floor(moment, close, spread))
    return merged
