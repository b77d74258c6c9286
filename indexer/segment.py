"""Cutting a video into segments where a person would cut: between sentences and at shot changes.

A segment is the unit that gets vectors; results are segments, merged with close neighbours
into moments (``search.rank``). So a segment must never end mid-sentence (its transcript would
start with the tail of one thought and end inside the next, and the moment would start late),
and it should not mix two topics or two scenes.

Where to cut is an optimisation over candidate borders: the pause before every spoken sentence
(placed just before its first word, so a segment starts where its first sentence starts), shot
changes that fall in silence (a cut inside a sentence is ignored: the sentence wins; a cut in
the pause before a sentence replaces that sentence's border, so the segment starts with the new
picture, even a few seconds before the first word), and, only
for a sentence longer than ``max_len``, the pauses between its words. Each border has a strength
(a shot change is strong; a sentence border grows with the pause and, when the caller knows it,
with how much the topic changes there). A dynamic programme picks the borders that maximise
the summed strength above a threshold, with penalties for segments shorter than ``min_len`` or
holding speech beyond ``max_len``. Stretches without speech or borders longer than ``max_len``
(frame-only footage) are split into equal windows. The result tiles [0, duration].
"""
from __future__ import annotations

import bisect
import math
from typing import Sequence

import numpy as np

from .sentences import Sentence

SEGMENTATION_VERSION = 2  # stored per video: a file cut by another version is re-indexed

_THRESHOLD = 0.5  # a border is taken when its strength is above this (and the lengths allow it)
_SHOT = 1.0
_SENTENCE = 0.45
_PAUSE = 0.15  # per second of pause, up to 2 s
_TOPIC = 0.3  # times the caller's topic-change score in [-1, 1]
_WORD = 0.1  # a pause between words of an over-long sentence: weak, taken only when needed
_LEAD = 0.25  # a sentence's segment starts this long (or half the pause) before its first word
_LONG_SILENCE = 3.0  # a pause this long also gets a border right after the sentence before it
_SHORT_PENALTY = 1.0  # per second below min_len
_LONG_PENALTY = 1.0  # per second of speech-bearing segment beyond max_len
_LOOKBACK = 80  # candidate borders a segment may span (keeps the programme linear in practice)


def signature(min_len: float, max_len: float, shot_threshold: float) -> str:
    """What decides a file's segments, stored with it: a file cut otherwise is cut again."""
    return f"v{SEGMENTATION_VERSION} len {min_len:g}-{max_len:g} shot {shot_threshold:g}"


def make_spans(duration: float, cuts: Sequence[float], min_len: float = 2.0, max_len: float = 10.0,
               sentences: Sequence[Sentence] = (),
               topic_change: Sequence[float] | None = None) -> list[tuple[float, float]]:
    """Segment borders for a file of ``duration`` seconds: [(start, end)] tiling it.

    ``cuts``: shot changes (seconds). ``sentences``: spoken sentences in time order.
    ``topic_change``: optional, one value in [-1, 1] per pair of consecutive sentences (1: a
    clear change of topic, -1: the same thought goes on), e.g. from sentence embeddings.
    """
    return [(start, end) for start, end, _ in make_segments(duration, cuts, min_len, max_len,
                                                            sentences, topic_change)]


def make_segments(duration: float, cuts: Sequence[float], min_len: float = 2.0, max_len: float = 10.0,
                  sentences: Sequence[Sentence] = (),
                  topic_change: Sequence[float] | None = None) -> list[tuple[float, float, float]]:
    """As ``make_spans``, with the strength of the border each segment starts at: 1 for the
    start of the file, that border's strength otherwise (shot change 1, sentence ~0.5-0.8),
    0 inside a stretch split into equal windows. Search grows moments over weak borders only."""
    if duration <= 0:
        return []
    if min_len > max_len:
        raise ValueError("min_len must not exceed max_len")
    said = sorted((s for s in sentences if s.end > 0 and s.start < duration), key=lambda s: s.start)
    candidates = _candidates(duration, cuts, said, max_len, topic_change)
    borders = _best_borders(duration, candidates, said, min_len, max_len)
    out: list[tuple[float, float, float]] = []
    for start, end in zip(borders, borders[1:]):
        parts = max(1, math.ceil((end - start) / max_len - 1e-9))
        step = (end - start) / parts
        strength = candidates.get(round(start, 3), 1.0) if start > 0 else 1.0
        out.extend((start + i * step, end if i == parts - 1 else start + (i + 1) * step,
                    strength if i == 0 else 0.0) for i in range(parts))
    return out


def _candidates(duration: float, cuts: Sequence[float], said: list[Sentence], max_len: float,
                topic_change: Sequence[float] | None) -> dict[float, float]:
    """{border time: strength} for every place a segment may start."""
    found: dict[float, float] = {}

    def offer(at: float, strength: float) -> None:
        if 0.0 < at < duration:
            at = round(at, 3)
            found[at] = max(found.get(at, 0.0), strength)

    inside = [(s.start + 0.15, s.end - 0.15) for s in said]
    for cut in cuts:
        if not any(a < cut < b for a, b in inside):
            offer(float(cut), _SHOT)
    previous_end = 0.0
    for n, sentence in enumerate(said):
        pause = max(0.0, sentence.start - previous_end)
        strength = _SENTENCE + _PAUSE * min(pause, 2.0)
        if n == 0:
            strength = _SHOT  # silence, then speech
        elif topic_change is not None and n - 1 < len(topic_change):
            strength += _TOPIC * max(-1.0, min(1.0, float(topic_change[n - 1])))
        # A shot change in this pause and the sentence that follows are one border: keep the
        # one nearest the speech, with both strengths.
        in_pause = [c for c in cuts if previous_end - 0.15 <= c <= sentence.start + 0.15]
        if in_pause:
            at = max(in_pause)
            found.pop(round(at, 3), None)
            offer(min(at, sentence.start), max(strength, _SHOT) + 0.2)
        else:
            offer(sentence.start - min(_LEAD, pause / 2), strength)
        if n and pause >= _LONG_SILENCE:
            offer(previous_end + _LEAD, strength)
        if sentence.end - sentence.start > max_len:
            for at, gap in sentence.pauses:
                offer(at, _WORD + 0.3 * min(gap, 1.0))
        previous_end = max(previous_end, sentence.end)
    if said and duration - previous_end >= _LONG_SILENCE:
        offer(previous_end + _LEAD, _SHOT)
    return found


def _best_borders(duration: float, candidates: dict[float, float], said: list[Sentence],
                  min_len: float, max_len: float) -> list[float]:
    """0, the chosen borders, duration: the dynamic programme over the candidates."""
    points = [0.0] + sorted(candidates) + [duration]
    gains = [0.0] + [candidates[p] - _THRESHOLD for p in points[1:-1]] + [0.0]
    starts = [s.start for s in said]

    def speech_beyond_max(a: float, b: float) -> float:
        if b - a <= max_len or not said:
            return 0.0
        lo = max(0, bisect.bisect_right(starts, a) - 1)
        hi = bisect.bisect_left(starts, b)
        spoken = sum(max(0.0, min(s.end, b) - max(s.start, a)) for s in said[lo:hi])
        return max(0.0, min(spoken, b - a - max_len))

    def cost(a: float, b: float, last: bool) -> float:
        length = b - a
        penalty = _LONG_PENALTY * speech_beyond_max(a, b)
        if length < min_len and not (last and a == 0.0):  # a whole file shorter than min_len is fine
            penalty += _SHORT_PENALTY * (min_len - length) + 0.01
        return penalty

    best = [0.0] + [-math.inf] * (len(points) - 1)
    back = [0] * len(points)
    for j in range(1, len(points)):
        last = j == len(points) - 1
        for i in range(j - 1, max(-1, j - 1 - _LOOKBACK), -1):
            if best[i] == -math.inf:
                continue
            value = best[i] + gains[j] - cost(points[i], points[j], last)
            if value > best[j]:
                best[j], back[j] = value, i
    chosen, j = [], len(points) - 1
    while j > 0:
        chosen.append(points[j])
        j = back[j]
    return [0.0] + chosen[::-1]


def topic_change(vectors, same_topic: float) -> list[float]:
    """Topic-change scores in [-1, 1] between consecutive sentences, from their unit vectors
    (sentence embeddings): neighbours about one thing are similar, a new topic is not.
    ``same_topic``: the cosine above which the model's neighbours read as one topic
    (``core.models.sentence.same_topic``)."""
    vectors = np.asarray(vectors, np.float32)
    if len(vectors) < 2:
        return []
    similarity = (vectors[1:] * vectors[:-1]).sum(axis=1)
    return np.clip((same_topic - similarity) / same_topic, -1.0, 1.0).tolist()
