"""Chapters and a summary of a video, from what indexing already knows about it.

A chapter starts where the topic changes. Every segment start is a candidate border (segments
already start at sentence and shot borders), scored by evidence that is cheap because it was
computed anyway:

- how far the meaning of the window before differs from the window after (the speech-space
  vectors of the segments, which hold what is said and the text on screen; windows two shortest
  chapters long; a TextTiling-like depth, so a border must stand out from its neighbourhood, not
  just be far from it), as it is and as it stands out among the video's own depths;
- a change of slide title (``chapter_titles``: the large line near the top of the screen);
- a shot change, weighed by how rare shot changes are in the video.

Borders are taken strongest first while each chapter stays at least ``min_len`` long; a chapter
longer than ``max_len`` is split at its strongest inner candidate. Both lengths follow the
video's duration (``chapter_lengths``). Titles are ``chapter_titles``'. The summary is
extractive: the most central whole sentence of each of the most central chapters, in time order.
Speaker changes are not used: the bench has no talk with several voices to weigh them on.
"""
from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Sequence

import numpy as np

from core.catalog import STRONG_CUT
from core.rows import ChapterMark, ShownLine
from core.vectors import normalize

from .chapter_titles import Embed, ScreenIndex, chapter_titles, same_title, slide_title

CHAPTERS_VERSION = "chapters-v1"  # stored per video: another version computes them again

# Weights of the evidence for a border, and the score a border needs (chosen on bench.chapters' dev talks).
WINDOW = 2.0           # the windows of meaning compared, in shortest chapters
W_DEPTH = 1.0
W_STANDING = 0.5
W_TITLE = 1.0
W_CUT = 1.0
THRESHOLD = 0.8
ONE_CHAPTER = 60.0     # a video shorter than this (seconds) is one chapter
_SENTENCE_END = re.compile(r"[.?!。？！…]['\"”’)]*$")


@dataclasses.dataclass
class Part:
    """One segment as chapters read it."""

    start: float
    end: float
    text: str = ""
    vector: np.ndarray | None = None   # its speech-space vector (unit), when it has speech
    border: float = 0.0                # the strength of the cut at its start (a shot change is >= 1)


@dataclasses.dataclass
class Outline:
    """A video's computed chapters and summary ([start, end, text] lines in time order)."""

    chapters: list[ChapterMark]
    summary: list[list]


def chapter_lengths(duration: float) -> tuple[float, float]:
    """(shortest, longest) chapter for a video of ``duration`` seconds: about twenty chapters at
    most and three at least, never under 15 s (players hide shorter ones) nor over 15 min; a
    video under a minute is one chapter."""
    if duration < ONE_CHAPTER:
        return duration, duration
    return min(max(duration / 20, 15.0), 120.0), min(max(duration / 3, 60.0), 900.0)


def outline(parts: Sequence[Part], screen: Sequence[ShownLine], duration: float,
            embed: Embed | None = None) -> Outline:
    """Chapters tiling [0, duration] and a summary, from a video's segments in time order and the
    lines read off its screen. ``embed`` (texts -> unit vectors in the parts' speech space) lets
    titles be the phrases closest in meaning to their chapter; without it they are the phrases
    most particular to it by counts."""
    parts = [p for p in parts if p.end > p.start]
    if duration <= 0 or not parts:
        return Outline([], [])
    min_len, max_len = chapter_lengths(duration)
    screen = ScreenIndex(screen)
    titles = [slide_title(screen, p.start, p.end) for p in parts]
    scores = border_scores(parts, titles, WINDOW * min_len)
    starts = pick_borders([p.start for p in parts], scores, duration, min_len, max_len)
    spans = list(zip(starts, starts[1:] + [duration]))
    chosen = [[p for p in parts if a <= p.start < b] for a, b in spans]
    centres = [_unit(sum(vectors)) if (vectors := [p.vector for p in ps if p.vector is not None]) else None
               for ps in chosen]
    names = chapter_titles([[p.text for p in ps] for ps in chosen], centres, screen, spans, embed)
    marks = [ChapterMark(a, b, name, "computed") for (a, b), name in zip(spans, names)]
    return Outline(marks, summary(chosen, duration))


def video_chapters(parts: Sequence[Part], screen: Sequence[ShownLine], duration: float,
                   own: Sequence[tuple[float, float, str]] = (), embed: Embed | None = None
                   ) -> tuple[list[ChapterMark], list[list]]:
    """All chapters of a video (computed, then the file's own marks) and its summary."""
    computed = outline(parts, screen, duration, embed)
    return computed.chapters + [ChapterMark(a, b, title, "file") for a, b, title in own], computed.summary


def border_scores(parts: Sequence[Part], titles: Sequence[str], window: float) -> list[float]:
    """How strongly each part's start is a chapter border (the first part's is 0). The depth of
    the change of meaning counts as it is and as it stands out among this video's (in standard
    deviations above their mean): how far meaning moves differs between a talk with slides,
    whose screen text is in the vectors, and one without. A shot change counts as much as shot
    changes are rare: in a lecture a cut is a new slide, in a film it is the next shot."""
    starts = [p.start for p in parts]
    depth = np.asarray(_depth([_novelty(parts, starts, i, window) for i in range(len(parts))]))
    spread = depth[1:].std() if len(depth) > 2 else 0.0
    standing = np.maximum(0.0, (depth - depth[1:].mean()) / spread) if spread > 0 else np.zeros_like(depth)
    cuts = sum(1 for p in parts[1:] if p.border >= STRONG_CUT)
    rarity = min(1.0, (parts[-1].end - parts[0].start) / (cuts + 1) / window)
    return [0.0] + [W_DEPTH * depth[i] + W_STANDING * standing[i] + W_TITLE * _title_change(titles[i - 1], titles[i])
                    + W_CUT * rarity * (parts[i].border >= STRONG_CUT) for i in range(1, len(parts))]


def pick_borders(starts: Sequence[float], scores: Sequence[float], duration: float,
                 min_len: float, max_len: float) -> list[float]:
    """Chapter starts (0 first): the strongest borders above ``THRESHOLD`` that keep every chapter
    ``min_len`` long, then the strongest inner border of any chapter over ``max_len``."""
    def fits(at: float, taken: list[float]) -> bool:
        return min_len <= at <= duration - min_len and all(abs(at - t) >= min_len for t in taken)

    taken: list[float] = []
    for i in sorted(range(1, len(starts)), key=lambda i: (-scores[i], starts[i])):
        if scores[i] >= THRESHOLD and fits(starts[i], taken):
            taken.append(starts[i])
    while True:
        edges = [0.0] + sorted(taken) + [duration]
        long = [(a, b) for a, b in zip(edges, edges[1:]) if b - a > max_len]
        inner = [i for a, b in long for i in range(1, len(starts)) if a < starts[i] < b and fits(starts[i], taken)]
        if not inner:
            return edges[:-1]
        taken.append(starts[max(inner, key=lambda i: (scores[i], -starts[i]))])


def _novelty(parts: Sequence[Part], starts: list[float], i: int, window: float) -> float | None:
    """1 - cosine between the mean speech vectors of the ``window`` seconds before and after part
    ``i``'s start (each part weighed by its seconds inside); None where a side has no speech."""
    if i == 0:
        return None
    at = parts[i].start
    sides = []
    for lo, hi in ((at - window, at), (at, at + window)):
        total = None
        for p in parts[max(0, bisect.bisect_right(starts, lo) - 1):bisect.bisect_left(starts, hi)]:
            inside = min(p.end, hi) - max(p.start, lo)
            if inside > 0 and p.vector is not None:
                total = p.vector * inside if total is None else total + p.vector * inside
        if total is None or not np.any(total):
            return None
        sides.append(total / np.linalg.norm(total))
    return float(1.0 - np.dot(sides[0], sides[1]))


def _depth(novelty: list[float | None]) -> list[float]:
    """How far each novelty stands above the lowest on either side before it rises again (as
    TextTiling's depth, on dissimilarity): a border inside one long stretch of change scores little."""
    out = []
    for i, value in enumerate(novelty):
        if value is None:
            out.append(0.0)
            continue
        lows = []
        for step in (-1, 1):
            low, j = value, i + step
            while 0 <= j < len(novelty) and novelty[j] is not None and novelty[j] <= low + 1e-9:
                low, j = novelty[j], j + step
            lows.append(low)
        out.append(value - 0.5 * (lows[0] + lows[1]))
    return out


def _title_change(before: str, after: str) -> float:
    if not before and not after:
        return 0.0
    if not before or not after:
        return 0.5
    return 0.0 if same_title(before, after) else 1.0


def summary(chosen: list[list[Part]], duration: float) -> list[list]:
    """[start, end, text] of the most central whole sentence of each of the most central chapters
    (about one a minute, three to seven), in time order."""
    runs = [_whole_sentences(parts) for parts in chosen]
    spoken = [run for chapter in runs for run in chapter]
    if not spoken:
        return []
    centre = _unit(sum(vector for _, _, _, vector in spoken))
    picks = []
    for chapter in runs:
        if chapter:
            own = _unit(sum(vector for _, _, _, vector in chapter))
            picks.append(max(chapter, key=lambda run: (float(run[3] @ own), -run[0])))
    room = min(max(round(duration / 60), 3), 7)
    kept = sorted(picks, key=lambda run: -float(run[3] @ centre))[:room]
    return [[start, end, text] for start, end, text, _ in sorted(kept, key=lambda run: run[0])]


def _whole_sentences(parts: Sequence[Part]) -> list[tuple[float, float, str, np.ndarray]]:
    """(start, end, text, unit vector) of runs of parts that hold whole sentences: a segment cut
    inside an over-long sentence joins the next, so a summary never stops mid-sentence."""
    runs, held = [], []
    for part in parts:
        if part.vector is None or not part.text.strip():
            held = []  # a run must not bridge a stretch without speech
            continue
        held.append(part)
        if _SENTENCE_END.search(part.text.strip()) or len(held) >= 4:
            runs.append((held[0].start, held[-1].end, " ".join(p.text.strip() for p in held),
                         _unit(sum(p.vector for p in held))))
            held = []
    return runs


def _unit(vector: np.ndarray) -> np.ndarray:
    return normalize(vector)[0]
