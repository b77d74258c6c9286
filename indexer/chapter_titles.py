"""Chapter titles: the slide title a chapter shows, else the key phrase that says what it is about.

A slide title is the tallest line near the top of the screen (among the lines read with it), on
screen for at least half the chapter and in no other chapter. Otherwise the runs of content words
(between stop words and punctuation, up to three words) the chapter says are ranked by counts
(often said here, rarely in the other chapters), and the best of them are embedded in the speech
space: the phrase nearest the chapter's meaning, less half its nearness to the other chapters,
is the title.
"""
from __future__ import annotations

import bisect
import difflib
import math
import re
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from core.rows import ShownLine
from search.keyword import STOP_WORDS

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit vectors in the speech space
TITLE_TOP = 0.3        # a title's box starts in the top share of the frame
TITLE_SAME = 0.7       # two readings of one title (OCR varies a little between frames)
TITLE_SHARE = 0.5      # a slide title names a chapter it is on screen for at least this share of
TITLE_WORDS = 8
PHRASE_WORDS = 3
CANDIDATES = 10        # key phrases embedded per chapter (the best by counts; README)
DISTINCT = 0.5         # how much a phrase's nearness to other chapters counts against it
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
# Words that say little of a topic beyond STOP_WORDS: fillers, and verbs that end runs of words
# ("a weaker currency makes ...", "a black hole whose ...") without naming anything.
_EXTRA_STOP = frozenset("""also well like just really one two three first second many much may might
would could shall must every even still yet let lets us get gets got make makes made say says said
thing things way ways called call calls often around almost whose across means mean meant takes take
took gives give gave goes go went comes come came uses use used using keeps keep kept become becomes
became happen happens happened show shows showed tell tells told sit sits seem seems need needs
want wants put puts turn turns""".split())


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


def chapter_titles(said: list[list[str]], centres: list[np.ndarray | None], screen: ScreenIndex,
                   spans: list[tuple[float, float]], embed: Embed | None = None) -> list[str]:
    """A title per chapter (``said``: the texts of its segments; ``centres``: the unit mean of their
    speech vectors): its slide title when one is on screen for most of it and not in the other
    chapters as well, else its best key phrase, else 'Part n'."""
    slides = [slide_title(screen, a, b) for a, b in spans]
    counted = [Counter(w for text in texts for w in content_words(text)) for texts in said]
    spread = Counter(w for c in counted for w in c)
    names = []
    for n, ((a, b), texts) in enumerate(zip(spans, said)):
        title = slides[n]
        shown = sum(inside for line, inside in screen.during(a, b) if same_title(line.text, title)) if title else 0
        elsewhere = sum(1 for m, other in enumerate(slides) if m != n and other and same_title(other, title))
        if title and shown >= TITLE_SHARE * (b - a) and not elsewhere:
            names.append(title)
            continue
        others = [c for m, c in enumerate(centres) if m != n and c is not None]
        phrase = key_phrase(texts, counted[n], spread, len(said), embed, centres[n], others)
        names.append(phrase[:1].upper() + phrase[1:] if phrase else f"Part {n + 1}")
    return names


def key_phrase(texts: Sequence[str], counts: Counter, spread: Counter, chapters: int, embed: Embed | None = None,
               centre: np.ndarray | None = None, others: Sequence[np.ndarray] = ()) -> str:
    """The best run of up to ``PHRASE_WORDS`` content words in ``texts``, the way it was first
    written. By counts: its words' counts in the chapter times how rare they are among the video's
    chapters. With ``embed`` the ``CANDIDATES`` best by counts are embedded and the one nearest
    the chapter's meaning (``centre``), less a share of its nearness to the other chapters, wins."""
    def weight(word: str) -> float:
        return counts[word] * math.log(1.0 + chapters / spread[word]) * (1.0 + min(len(word), 12) / 12)

    scored: dict[str, tuple[float, str]] = {}
    for text in texts:
        for run in _runs(text):
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
