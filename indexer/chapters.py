"""Chapters and a summary of a video, from what indexing already knows about it.

A chapter starts where the topic changes. Every segment start is a candidate border (segments
already start at sentence and shot borders), scored by evidence that is cheap because it was
computed anyway:

- how far the meaning of what is said in the window before differs from the window after (the
  speech-space vectors of the segments; a TextTiling-like depth, so a border must stand out from
  its neighbourhood, not just be far from it);
- a change of slide title (the large line near the top of the screen, read by OCR) and how much
  of the screen text as a whole changes;
- a strong cut (a shot change, a long pause) and a change of who speaks.

Borders are taken strongest first while each chapter stays at least ``min_len`` long; a chapter
longer than ``max_len`` is split at its strongest inner candidate. Both lengths follow the
video's duration (``chapter_lengths``). A chapter's title is its slide title when one is on
screen for most of it, otherwise its best key phrase: runs of content words of its transcript,
weighed by how often they occur in it against how many other chapters say them. The summary is
extractive: the most central sentence of each of the most central chapters, in time order.
"""
from __future__ import annotations

import bisect
import dataclasses
import difflib
import math
import re
from collections import Counter
from typing import Sequence

import numpy as np

from core.rows import ChapterMark, ShownLine
from search.keyword import STOP_WORDS

CHAPTERS_VERSION = "chapters-v1"  # stored per video: another version computes them again

# Weights of the evidence for a border, and the score a border needs (chosen on bench.chapters' dev talks).
W_NOVELTY = 0.5
W_DEPTH = 1.0
W_TITLE = 1.0
W_SCREEN = 0.3
W_CUT = 0.15
W_SPEAKER = 0.2
THRESHOLD = 0.35
TITLE_TOP = 0.3        # a title's box starts in the top share of the frame
TITLE_SAME = 0.7       # two readings of one title (OCR varies a little between frames)
TITLE_SHARE = 0.5      # a slide title names a chapter it is on screen for at least this share of
TITLE_WORDS = 8
PHRASE_WORDS = 3
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.?!。？！…]['\"”’)]*$")
_EXTRA_STOP = frozenset("""also well like just really one two three first second many much may might
would could shall must every even still yet let us get got make made say said thing things way ways
called call often around almost""".split())


@dataclasses.dataclass
class Part:
    """One segment as chapters read it."""

    start: float
    end: float
    text: str = ""
    vector: np.ndarray | None = None   # its speech-space vector (unit), when it has speech
    screen: str = ""                   # the text on screen while it plays
    border: float = 0.0                # the strength of the cut at its start (a shot change is >= 1)
    speaker: int | None = None         # who speaks most of it, when voices were told apart


@dataclasses.dataclass
class Outline:
    """A video's computed chapters and summary ([start, end, text] lines in time order)."""

    chapters: list[ChapterMark]
    summary: list[list]


def chapter_lengths(duration: float) -> tuple[float, float]:
    """(shortest, longest) chapter for a video of ``duration`` seconds: about twenty chapters at
    most and three at least, never under 15 s (players hide shorter ones) nor over 15 min."""
    return min(max(duration / 20, 15.0), 120.0), min(max(duration / 3, 60.0), 900.0)


def outline(parts: Sequence[Part], screen: Sequence[ShownLine], duration: float) -> Outline:
    """Chapters tiling [0, duration] and a summary, from a video's segments in time order and the
    lines read off its screen."""
    parts = [p for p in parts if p.end > p.start]
    if duration <= 0 or not parts:
        return Outline([], [])
    min_len, max_len = chapter_lengths(duration)
    screen = ScreenIndex(screen)
    titles = [slide_title(screen, p.start, p.end) for p in parts]
    scores = border_scores(parts, titles, min_len)
    starts = pick_borders([p.start for p in parts], scores, duration, min_len, max_len)
    spans = list(zip(starts, starts[1:] + [duration]))
    chosen = [[p for p in parts if a <= p.start < b] for a, b in spans]
    names = chapter_titles(chosen, screen, spans)
    marks = [ChapterMark(a, b, name, "computed") for (a, b), name in zip(spans, names)]
    return Outline(marks, summary(chosen, duration))


def video_chapters(parts: Sequence[Part], screen: Sequence[ShownLine], duration: float,
                   own: Sequence[tuple[float, float, str]] = ()) -> tuple[list[ChapterMark], list[list]]:
    """All chapters of a video (computed, then the file's own marks) and its summary."""
    computed = outline(parts, screen, duration)
    return computed.chapters + [ChapterMark(a, b, title, "file") for a, b, title in own], computed.summary


def main_speaker(turns: Sequence[tuple[int, float, float]], start: float, end: float) -> int | None:
    """Who speaks most of [start, end), from (speaker, start, end) turns; None when nobody does."""
    heard: Counter = Counter()
    for who, a, b in turns:
        if a < end and b > start:
            heard[who] += min(b, end) - max(a, start)
    return max(sorted(heard), key=lambda who: heard[who]) if heard else None


def border_scores(parts: Sequence[Part], titles: Sequence[str], window: float) -> list[float]:
    """How strongly each part's start is a chapter border (the first part's is 0)."""
    starts = [p.start for p in parts]
    novelty = [_novelty(parts, starts, i, window) for i in range(len(parts))]
    depth = _depth(novelty)
    out = [0.0]
    for i in range(1, len(parts)):
        before, after = parts[i - 1], parts[i]
        out.append(W_NOVELTY * (novelty[i] or 0.0) + W_DEPTH * depth[i]
                   + W_TITLE * _title_change(titles[i - 1], titles[i])
                   + W_SCREEN * _screen_change(parts, starts, i, window)
                   + W_CUT * min(after.border or 0.0, 1.5)
                   + W_SPEAKER * (before.speaker is not None and after.speaker is not None
                                  and before.speaker != after.speaker))
    return out


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


def _screen_change(parts: Sequence[Part], starts: list[float], i: int, window: float) -> float:
    """The share of the words on screen in the window before part ``i`` and after it that are not
    on both (0 when the screen holds no text on either side)."""
    at = parts[i].start
    near = parts[max(0, bisect.bisect_right(starts, at - window) - 1):bisect.bisect_left(starts, at + window)]
    before = {w for p in near if p.start < at for w in words(p.screen)}
    after = {w for p in near if p.start >= at for w in words(p.screen)}
    union = before | after
    return len(union - (before & after)) / len(union) if union else 0.0


def _title_change(before: str, after: str) -> float:
    if not before and not after:
        return 0.0
    if not before or not after:
        return 0.5
    return 0.0 if same_title(before, after) else 1.0


def same_title(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= TITLE_SAME


class ScreenIndex:
    """A video's screen lines, found by time without a scan of them all (a long lecture has
    tens of thousands)."""

    def __init__(self, lines: Sequence[ShownLine]):
        self.lines = sorted(lines, key=lambda line: line.start)
        self.starts = [line.start for line in self.lines]
        self.longest = max((line.end - line.start for line in self.lines), default=0.0)

    def during(self, start: float, end: float) -> list[tuple[ShownLine, float]]:
        """(line, seconds it is shown inside [start, end)) for every line shown then."""
        first = bisect.bisect_left(self.starts, start - self.longest)
        out = []
        for line in self.lines[first:bisect.bisect_left(self.starts, end)]:
            inside = min(line.end, end) - max(line.start, start)
            if inside > 0:
                out.append((line, inside))
        return out


def slide_title(screen: ScreenIndex, start: float, end: float) -> str:
    """The title on screen for most of [start, end): of the lines near the top, the tallest,
    weighed by the seconds it is shown; '' when none."""
    seconds: Counter = Counter()
    height: dict[str, float] = {}
    for line, inside in screen.during(start, end):
        box = line.box or []
        if len(box) != 4 or box[1] > TITLE_TOP or len(line.text.split()) > TITLE_WORDS:
            continue
        key = line.text.strip()
        seconds[key] += inside
        height[key] = max(height.get(key, 0.0), box[3] - box[1])
    if not seconds:
        return ""
    tallest = max(height.values())
    tall = {k: s for k, s in seconds.items() if height[k] >= 0.8 * tallest}
    return max(sorted(tall), key=lambda k: tall[k])


def chapter_titles(chosen: list[list[Part]], screen: ScreenIndex, spans: list[tuple[float, float]]) -> list[str]:
    """A title per chapter: its slide title when one is on screen for most of it and not in the
    other chapters as well, else its best key phrase, else 'Part n'."""
    slides = [slide_title(screen, a, b) for a, b in spans]
    counted = [Counter(w for p in parts for w in content_words(p.text)) for parts in chosen]
    spread = Counter(w for c in counted for w in c)
    names = []
    for n, ((a, b), parts) in enumerate(zip(spans, chosen)):
        title = slides[n]
        shown = sum(inside for line, inside in screen.during(a, b) if same_title(line.text, title)) if title else 0
        elsewhere = sum(1 for m, other in enumerate(slides) if m != n and other and same_title(other, title))
        if title and shown >= TITLE_SHARE * (b - a) and not elsewhere:
            names.append(title)
            continue
        names.append(key_phrase(parts, counted[n], spread, len(chosen)) or f"Part {n + 1}")
    return names


def key_phrase(parts: Sequence[Part], counts: Counter, spread: Counter, chapters: int) -> str:
    """The best run of up to ``PHRASE_WORDS`` content words said in ``parts``: its words' counts in
    the chapter times how rare they are among the video's chapters, a little more for a longer
    run; the way it was first written, first letter capitalised."""
    def weight(word: str) -> float:
        return counts[word] * math.log(1.0 + chapters / spread[word]) * (1.0 + min(len(word), 12) / 12)

    best, best_score = "", 0.0
    for part in parts:
        for run in _runs(part.text):
            for size in range(1, PHRASE_WORDS + 1):
                for k in range(len(run) - size + 1):
                    phrase = run[k:k + size]
                    score = sum(weight(w.lower()) for w in phrase) / size ** 0.5
                    if score > best_score + 1e-9:
                        best, best_score = " ".join(phrase), score
    return best[:1].upper() + best[1:]


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


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if _content(w)]


def _content(word: str) -> bool:
    return len(word) > 2 and word not in STOP_WORDS and word not in _EXTRA_STOP


def _runs(text: str) -> list[list[str]]:
    """Runs of content words between stop words and punctuation, as written."""
    runs, run = [], []
    for token in re.findall(r"[^\W\d_][\w'-]*|[^\w\s]", text or "", re.UNICODE):
        if _WORD.fullmatch(token) and _content(token.lower()):
            run.append(token)
        else:
            runs, run = runs + [run] if run else runs, []
    return runs + [run] if run else runs


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
