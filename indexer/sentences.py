"""Whisper's words regrouped into spoken sentences: the units a moment may never cut through.

Whisper's own lines ("segments") are decoding windows, not sentences: one line can hold the end
of one sentence and the start of the next, a small model often runs several sentences together
without punctuation, and its time stamps drift by a second (the first word of a file is often
stamped at 0.0 s; a word after a pause is pulled back into the silence). So sentences are rebuilt
from the words: a sentence ends at a word with closing punctuation, where the words stop for
``LONG_PAUSE``, or where a voice-activity detector (``core.models.vad``) hears the speaker stop between
two words. Their edges are then snapped to the edges the detector heard, which are exact to a
few hundredths of a second. Each sentence keeps the pauses between its words, so a monologue
longer than a moment can still be split where the speaker breathes.
"""
from __future__ import annotations

import bisect
import dataclasses
import re

_CLOSING = re.compile(r"[.?!…]['\")\]]*$")
LONG_PAUSE = 1.0  # seconds of silence between two words that end a sentence even without punctuation
SNAP = 1.2  # seconds: how far Whisper's edge of a sentence may be from the true one
_HEARD_PAUSE = 0.25  # a silence the detector hears between two words, this long, ends a sentence


@dataclasses.dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    text: str
    pauses: tuple[tuple[float, float], ...] = ()  # (where, how long) between the sentence's words


Word = tuple[float, float, str]


def sentences_of(lines, voiced: list[tuple[float, float]] = (), long_pause: float = LONG_PAUSE) -> list[Sentence]:
    """Sentences, in time order, from transcript lines (objects with ``start``, ``end``, ``text``
    and ``words`` = [(start, end, word)]); a line without word timestamps is one sentence.
    ``voiced``: exact stretches of speech (``voice.voiced_spans``), which split and snap them."""
    out: list[Sentence] = []
    run: list[Word] = []
    for line in sorted(lines, key=lambda l: l.start):
        words = [(float(s), max(float(e), float(s)), w.strip()) for s, e, w in (line.words or []) if w.strip()]
        if not words:
            out += _split(run, voiced, long_pause)
            run = []
            if line.text.strip():
                out.append(Sentence(float(line.start), float(line.end), line.text.strip()))
            continue
        run += words
    out += _split(run, voiced, long_pause)
    return snap(out, voiced) if voiced else out


def _split(words: list[Word], voiced, long_pause: float) -> list[Sentence]:
    """A run of words cut into sentences at punctuation, long gaps and heard pauses."""
    if not words:
        return []
    breaks = {n + 1 for n, (_, _, w) in enumerate(words[:-1]) if _CLOSING.search(w)}
    breaks |= {n + 1 for n, (a, b) in enumerate(zip(words, words[1:])) if b[0] - a[1] >= long_pause}
    starts = [s for s, _, _ in words]
    for (_, end), (start, _) in zip(voiced, voiced[1:]):
        if start - end < _HEARD_PAUSE:
            continue
        # The word that restarts speech: the nearest within SNAP, unless punctuation already
        # breaks there (Whisper may have pulled that word's stamp back into the silence).
        near = [i for i in range(bisect.bisect_left(starts, start - SNAP), len(words))
                if 0 < i and starts[i] <= start + SNAP]
        if near and not breaks.intersection(near):
            breaks.add(min(near, key=lambda i: abs(starts[i] - start)))
    edges = [0] + sorted(breaks) + [len(words)]
    return [_sentence(words[a:b]) for a, b in zip(edges, edges[1:]) if b > a]


def _sentence(words: list[Word]) -> Sentence:
    pauses = tuple(((a[1] + b[0]) / 2, max(0.0, b[0] - a[1])) for a, b in zip(words, words[1:]))
    return Sentence(words[0][0], max(w[1] for w in words), " ".join(w[2] for w in words), pauses)


def snap(said: list[Sentence], voiced: list[tuple[float, float]]) -> list[Sentence]:
    """Move each sentence's start (end) to the nearest start (end) of a voiced stretch within
    ``SNAP`` seconds, keeping sentences in order and apart; edges with none nearby stay."""
    starts = sorted(s for s, _ in voiced)
    ends = sorted(e for _, e in voiced)
    begun: list[float] = []
    for n, sentence in enumerate(said):
        floor = begun[-1] + 0.1 if begun else 0.0
        found = _nearest(starts, sentence.start, floor, sentence.end)
        begun.append(max(floor, sentence.start) if found is None else found)
    out = []
    for n, sentence in enumerate(said):
        ceiling = begun[n + 1] if n + 1 < len(said) else float("inf")
        # Whisper's ends run late, into the silence after: the last heard end before its own
        # end (give or take a little) is the true one; else the nearest.
        low, high = begun[n] + 0.05, min(ceiling, sentence.end + 0.3)
        fits = ends[bisect.bisect_left(ends, low):bisect.bisect_right(ends, high)]
        end = fits[-1] if fits else _nearest(ends, sentence.end, begun[n] + 0.05, ceiling)
        end = min(sentence.end, ceiling) if end is None else end
        out.append(dataclasses.replace(sentence, start=begun[n], end=max(end, begun[n])))
    return out


def _nearest(edges: list[float], at: float, low: float, high: float) -> float | None:
    """The edge nearest ``at`` within ``SNAP`` and inside [low, high], or None."""
    lo, hi = bisect.bisect_left(edges, at - SNAP), bisect.bisect_right(edges, at + SNAP)
    fits = [e for e in edges[lo:hi] if low <= e <= high]
    return min(fits, key=lambda e: abs(e - at)) if fits else None
