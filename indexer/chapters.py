"""Chapters and a summary of a video, from what indexing already knows about it.

A chapter starts where the topic changes. Every segment start is a candidate border (segments
already start at sentence and shot borders), scored by evidence that is cheap because it was
computed anyway:

- how far the meaning of the window before differs from the window after (the speech-space
  vectors of the segments, which hold what is said and the text on screen; a TextTiling-like
  depth, so a border must stand out from its neighbourhood, not just be far from it);
- a change of slide title (the large line near the top of the screen, read by OCR);
- a shot change, weighed by how rare shot changes are in the video.

Borders are taken strongest first while each chapter stays at least ``min_len`` long; a chapter
longer than ``max_len`` is split at its strongest inner candidate. Both lengths follow the
video's duration (``chapter_lengths``). A chapter's title is its slide title when one is on
screen for most of it, otherwise its best key phrase: of the runs of content words it says, those
most particular to it by counts are embedded, and the one nearest its meaning and furthest from
the other chapters' wins. The summary is extractive: the most central whole sentence of each of
the most central chapters, in time order. Speaker changes are not used: the bench has no talk
with several voices to weigh them on.
"""
from __future__ import annotations

import bisect
import dataclasses
import difflib
import math
import re
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from core.catalog import STRONG_CUT
from core.rows import ChapterMark, ShownLine
from search.keyword import STOP_WORDS

Embed = Callable[[list[str]], np.ndarray]
CHAPTERS_VERSION = "chapters-v1"  # stored per video: another version computes them again

# Weights of the evidence for a border, and the score a border needs (chosen on bench.chapters' dev talks).
W_DEPTH = 1.0
W_TITLE = 1.0
W_CUT = 1.0
THRESHOLD = 0.8
TITLE_TOP = 0.3        # a title's box starts in the top share of the frame
TITLE_SAME = 0.7       # two readings of one title (OCR varies a little between frames)
TITLE_SHARE = 0.5      # a slide title names a chapter it is on screen for at least this share of
TITLE_WORDS = 8
PHRASE_WORDS = 3
CANDIDATES = 40        # key phrases embedded per chapter (the best by counts)
DISTINCT = 0.5         # how much a phrase's nearness to other chapters counts against it
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.?!。？！…]['\"”’)]*$")
# Words that say little of a topic beyond STOP_WORDS: fillers, and verbs that end runs of words
# ("a weaker currency makes ...", "a black hole whose ...") without naming anything.
_EXTRA_STOP = frozenset("""also well like just really one two three first second many much may might
would could shall must every even still yet let lets us get gets got make makes made say says said
thing things way ways called call calls often around almost whose across means mean meant takes take
took gives give gave goes go went comes come came uses use used using keeps keep kept become becomes
became happen happens happened show shows showed tell tells told sit sits seem seems need needs
want wants put puts turn turns""".split())


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
    most and three at least, never under 15 s (players hide shorter ones) nor over 15 min."""
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
    scores = border_scores(parts, titles, min_len)
    starts = pick_borders([p.start for p in parts], scores, duration, min_len, max_len)
    spans = list(zip(starts, starts[1:] + [duration]))
    chosen = [[p for p in parts if a <= p.start < b] for a, b in spans]
    names = chapter_titles(chosen, screen, spans, embed)
    marks = [ChapterMark(a, b, name, "computed") for (a, b), name in zip(spans, names)]
    return Outline(marks, summary(chosen, duration))


def video_chapters(parts: Sequence[Part], screen: Sequence[ShownLine], duration: float,
                   own: Sequence[tuple[float, float, str]] = (), embed: Embed | None = None
                   ) -> tuple[list[ChapterMark], list[list]]:
    """All chapters of a video (computed, then the file's own marks) and its summary."""
    computed = outline(parts, screen, duration, embed)
    return computed.chapters + [ChapterMark(a, b, title, "file") for a, b, title in own], computed.summary


def border_scores(parts: Sequence[Part], titles: Sequence[str], window: float) -> list[float]:
    """How strongly each part's start is a chapter border (the first part's is 0). A shot change
    counts as much as shot changes are rare: in a lecture a cut is a new slide, in a film it is
    the next shot."""
    starts = [p.start for p in parts]
    depth = _depth([_novelty(parts, starts, i, window) for i in range(len(parts))])
    cuts = sum(1 for p in parts[1:] if p.border >= STRONG_CUT)
    rarity = min(1.0, (parts[-1].end - parts[0].start) / (cuts + 1) / (2 * window))
    return [0.0] + [W_DEPTH * depth[i] + W_TITLE * _title_change(titles[i - 1], titles[i])
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


def same_title(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= TITLE_SAME


class ScreenIndex:
    """A video's screen lines, found by time without a scan of them all (a long lecture has
    tens of thousands), each marked whether it could be a title: near the top and about as tall
    as the tallest line read with it."""

    def __init__(self, lines: Sequence[ShownLine]):
        self.lines = sorted(lines, key=lambda line: line.start)
        self.starts = [line.start for line in self.lines]
        self.longest = max((line.end - line.start for line in self.lines), default=0.0)
        tallest: dict[float, float] = {}
        for line in self.lines:
            tallest[line.start] = max(tallest.get(line.start, 0.0), _height(line))
        self.titles = {id(line) for line in self.lines
                       if len(line.box or []) == 4 and line.box[1] <= TITLE_TOP and 0 < len(line.text.split()) <= TITLE_WORDS
                       and _height(line) >= 0.8 * tallest[line.start]}

    def during(self, start: float, end: float) -> list[tuple[ShownLine, float]]:
        """(line, seconds it is shown inside [start, end)) for every line shown then."""
        first = bisect.bisect_left(self.starts, start - self.longest)
        out = []
        for line in self.lines[first:bisect.bisect_left(self.starts, end)]:
            inside = min(line.end, end) - max(line.start, start)
            if inside > 0:
                out.append((line, inside))
        return out


def _height(line: ShownLine) -> float:
    return line.box[3] - line.box[1] if len(line.box or []) == 4 else 0.0


def slide_title(screen: ScreenIndex, start: float, end: float) -> str:
    """The title on screen for most of [start, end); '' when none."""
    seconds: Counter = Counter()
    for line, inside in screen.during(start, end):
        if id(line) in screen.titles:
            seconds[line.text.strip()] += inside
    return max(sorted(seconds), key=lambda k: seconds[k]) if seconds else ""


def chapter_titles(chosen: list[list[Part]], screen: ScreenIndex, spans: list[tuple[float, float]],
                   embed: Embed | None = None) -> list[str]:
    """A title per chapter: its slide title when one is on screen for most of it and not in the
    other chapters as well, else its best key phrase, else 'Part n'."""
    slides = [slide_title(screen, a, b) for a, b in spans]
    counted = [Counter(w for p in parts for w in content_words(p.text)) for parts in chosen]
    spread = Counter(w for c in counted for w in c)
    centres = [_unit(sum(vectors)) if (vectors := [p.vector for p in parts if p.vector is not None]) else None
               for parts in chosen]
    names = []
    for n, ((a, b), parts) in enumerate(zip(spans, chosen)):
        title = slides[n]
        shown = sum(inside for line, inside in screen.during(a, b) if same_title(line.text, title)) if title else 0
        elsewhere = sum(1 for m, other in enumerate(slides) if m != n and other and same_title(other, title))
        if title and shown >= TITLE_SHARE * (b - a) and not elsewhere:
            names.append(title)
            continue
        others = [c for m, c in enumerate(centres) if m != n and c is not None]
        phrase = key_phrase(parts, counted[n], spread, len(chosen), embed, centres[n], others)
        names.append(phrase[:1].upper() + phrase[1:] if phrase else f"Part {n + 1}")
    return names


def key_phrase(parts: Sequence[Part], counts: Counter, spread: Counter, chapters: int, embed: Embed | None = None,
               centre: np.ndarray | None = None, others: Sequence[np.ndarray] = ()) -> str:
    """The best run of up to ``PHRASE_WORDS`` content words said in ``parts``, the way it was first
    written. By counts: its words' counts in the chapter times how rare they are among the video's
    chapters. With ``embed`` the ``CANDIDATES`` best by counts are embedded and the one nearest
    the chapter's meaning (``centre``), less a share of its nearness to the other chapters, wins."""
    def weight(word: str) -> float:
        return counts[word] * math.log(1.0 + chapters / spread[word]) * (1.0 + min(len(word), 12) / 12)

    scored: dict[str, tuple[float, str]] = {}
    for part in parts:
        for run in _runs(part.text):
            for size in range(1, PHRASE_WORDS + 1):
                for k in range(len(run) - size + 1):
                    phrase = run[k:k + size]
                    key = " ".join(phrase).lower()
                    if key not in scored:
                        scored[key] = (sum(weight(w.lower()) for w in phrase) / size ** 0.5, " ".join(phrase))
    if not scored:
        return ""
    ranked = sorted(scored.values(), key=lambda item: (-item[0], item[1]))
    if embed is None or centre is None:
        return ranked[0][1]
    candidates = [text for _, text in ranked[:CANDIDATES]]
    vectors = embed(candidates)
    near = vectors @ centre - (DISTINCT * np.max(vectors @ np.stack(others).T, axis=1) if others else 0.0)
    return candidates[int(np.argmax(near))]


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
