"""Which language is spoken where, for a model that cannot tell (an English-only Whisper), and
the names people read in reports.

An English-only model must not be given speech in another language: it writes English words that
were never said. The audio is cut into pieces of ``CHUNK`` seconds at pauses and each piece's
language is asked of a multilingual model (one pass of its encoder each). Where two neighbouring
pieces disagree, the switch lies somewhere in them: those two are asked again in pieces of
``FINE`` seconds, so a stretch ends within a few seconds of where the speaker changed language. A
piece the model is unsure of, or a silent one, takes its neighbour's language. (A multilingual
model finds each window's language itself while it transcribes: ``whisper.FasterWhisper``.)
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from .vad import SAMPLE_RATE, is_silent, windows

CHUNK = 30.0  # seconds: Whisper's own window, one encoder pass
FINE = 4.0  # seconds: where neighbouring chunks disagree, asked again in pieces this long
SURE = 0.5  # a language less likely than this is a guess: the piece follows its neighbours

Detect = Callable[[np.ndarray], "tuple[str, float] | None"]
"""A piece of audio -> (language code, probability), or None when it cannot be told."""


def clock(seconds: float) -> str:
    """0:07, 12:30: a time in a file as people read it."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
          "nl": "Dutch", "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
          "hi": "Hindi", "pl": "Polish", "tr": "Turkish", "sv": "Swedish", "uk": "Ukrainian", "cs": "Czech"}


def language_name(code: str | None) -> str:
    """A language's English name for people ("fr" -> "French"); the code itself when not listed."""
    return _NAMES.get(code or "", code or "an unknown language")


@dataclasses.dataclass(frozen=True)
class Stretch:
    """Samples ``first``..``end`` of the audio, spoken in ``language`` (None: not known)."""

    first: int
    end: int
    language: str | None

    @property
    def start_seconds(self) -> float:
        return self.first / SAMPLE_RATE

    @property
    def end_seconds(self) -> float:
        return self.end / SAMPLE_RATE


def _heard(detect: Detect, audio: np.ndarray, first: int, end: int) -> str | None:
    piece = audio[first:end]
    if len(piece) < SAMPLE_RATE // 2 or is_silent(piece):
        return None
    found = detect(piece)
    return found[0] if found is not None and found[1] >= SURE else None


def _filled(languages: list[str | None]) -> list[str | None]:
    """Unknown pieces take the language of the nearest known piece before them, else after."""
    out, last = list(languages), None
    for n, language in enumerate(out):
        out[n] = last = language or last
    following = None
    for n in range(len(out) - 1, -1, -1):
        if languages[n] is not None:
            following = languages[n]
        if out[n] is None:
            out[n] = following
    return out


def language_stretches(detect: Detect, audio: np.ndarray, chunk: float = CHUNK,
                       fine: float = FINE) -> list[Stretch]:
    """Consecutive stretches covering ``audio``, each of one language (see the module's doc)."""
    coarse = windows(audio, chunk, chunk / 3)
    said = _filled([_heard(detect, audio, a, b) for a, b in coarse])
    pieces: list[tuple[int, int, str | None]] = []
    for n, ((first, end), language) in enumerate(zip(coarse, said)):
        neighbours = {said[m] for m in (n - 1, n + 1) if 0 <= m < len(said)}
        if neighbours - {language}:  # a switch lies in this chunk or at its edge
            parts = [(first + a, first + b) for a, b in windows(audio[first:end], fine, fine / 2)]
            heard = [_heard(detect, audio, a, b) for a, b in parts]
            pieces += [(a, b, h or language) for (a, b), h in zip(parts, heard)]
        else:
            pieces.append((first, end, language))
    stretches: list[Stretch] = []
    for first, end, language in pieces:
        if stretches and stretches[-1].language == language:
            stretches[-1] = dataclasses.replace(stretches[-1], end=end)
        else:
            stretches.append(Stretch(first, end, language))
    return stretches
