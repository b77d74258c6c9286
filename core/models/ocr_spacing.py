"""Spaces back into the words that OCR reads off the screen.

PP-OCR's recognisers are trained mostly on Chinese: PP-OCRv4's reads Latin letters well but often
drops the spaces between words ("QUARTERLYRESULTS"; PP-OCRv6's drops fewer), which would
make the words unsearchable. It does say where each character stands (CTC positions), and the gap
between two words is wider than the gap between two letters of a word. Gaps alone mislead on wide
letters and kerning ("NE W S"), so each run of letters is split by a small dynamic programme that
weighs two kinds of evidence: the gap (split where it is wide, join where it is narrow) and the
words an English vocabulary knows (the sentence model's WordPiece vocabulary when present).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

_WIDE = 0.6  # a gap this many median character widths or more is a space by itself
_CANDIDATE = 0.25  # narrower gaps are never a space
_GAP_WEIGHT = 2.0  # how much a gap's evidence weighs against one unknown word
_MAX_PIECES = 48  # runs with more candidate gaps than this are split on gaps alone (the programme is quadratic)


@functools.lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Whole English words (lower case) from the packaged MiniLM's vocabulary; empty when it is
    not installed (gaps alone decide then)."""
    try:
        from .packaged_sentence import packaged_minilm

        path = Path(packaged_minilm() or "") / "vocab.txt"
        words = path.read_text(encoding="utf-8").split()
    except (OSError, ImportError):
        return frozenset()
    return frozenset(w for w in words if w.isalpha() and w.isascii() and (len(w) > 1 or w in "ai"))


def _unknown(piece: str, words: frozenset[str]) -> float:
    """How many runs of letters in ``piece`` the vocabulary does not know (numbers, symbols and
    code between them are taken as they come)."""
    if not words:
        return 0.0
    return float(sum(1 for letters in re.findall(r"[a-z]+", piece.lower()) if letters not in words))


def respace(text: str, boxes: list, words: frozenset[str] | None = None) -> str:
    """``text`` with spaces where the words were: ``boxes`` holds one box (four x, y points) per
    character of ``text``, as RapidOCR returns them with ``return_word_box``."""
    if len(boxes) != len(text) or len(text) < 2:
        return text
    words = vocabulary() if words is None else words
    left = [min(point[0] for point in box) for box in boxes]
    right = [max(point[0] for point in box) for box in boxes]
    widths = sorted(r - l for l, r, c in zip(left, right, text) if r > l and not c.isspace())
    width = widths[len(widths) // 2] if widths else 1.0
    gaps = [(left[i] - right[i - 1]) / max(width, 1e-6) for i in range(1, len(text))]  # gaps[i-1]: before char i
    out, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or text[i].isspace():
            run = text[start:i].strip()
            if run:
                out.append(_split_run(run, gaps[start:start + len(run) - 1], words))
            start = i + 1
    return " ".join(out)


def _split_run(run: str, gaps: list[float], words: frozenset[str]) -> str:
    """The cheapest way to cut one run of characters (no spaces) at its candidate gaps."""
    cuts = [i + 1 for i, gap in enumerate(gaps) if gap >= _CANDIDATE]
    if len(cuts) > _MAX_PIECES:
        return " ".join(_pieces(run, [c for c in cuts if gaps[c - 1] >= _WIDE]))
    points = [0] + cuts + [len(run)]
    best = {0: (0.0, [0])}  # position -> (cost, cut positions so far)
    for j in range(1, len(points)):
        options = []
        for i in range(j):
            if points[i] not in best:
                continue
            piece = run[points[i]:points[j]]
            # joining over the candidate gaps inside the piece, cutting at its start
            joined = sum(max(0.0, gaps[c - 1] - _WIDE) for c in cuts if points[i] < c < points[j])
            cut = max(0.0, _WIDE - gaps[points[i] - 1]) if points[i] > 0 else 0.0
            cost = best[points[i]][0] + _unknown(piece, words) + _GAP_WEIGHT * (joined + cut)
            options.append((cost, best[points[i]][1] + [points[j]]))
        best[points[j]] = min(options, key=lambda option: option[0])
    marks = best[len(run)][1]
    return " ".join(run[a:b] for a, b in zip(marks, marks[1:]))


def _pieces(run: str, cuts: list[int]) -> list[str]:
    marks = [0] + cuts + [len(run)]
    return [run[a:b] for a, b in zip(marks, marks[1:])]
