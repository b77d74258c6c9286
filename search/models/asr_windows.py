"""Long audio through Whisper a window at a time, so its memory does not grow with the file.

faster-whisper turns all the audio it is given into features at once: measured, about 60 MB more
per minute of speech, so a two-hour talk would need gigabytes for Whisper alone. Audio is cut
into windows of ``WINDOW`` seconds instead, each ending at the quietest half second of its last
``SEEK`` seconds (a pause, in speech), transcribed one after the other, and the pieces' times
shifted back onto the file's clock. A file shorter than a window is one call, as before.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .vad import SAMPLE_RATE
from .whisper import EMPTY, AsrBackend, Line, Transcript

WINDOW = 300.0  # seconds of audio Whisper is given at once
SEEK = 20.0  # a window ends at the quietest half second of its last this many seconds
_STEP = SAMPLE_RATE // 2


def windows(audio: np.ndarray, window: float = WINDOW, seek: float = SEEK) -> list[tuple[int, int]]:
    """[(first, end)] sample ranges that cover the audio, each at most ``window`` seconds long."""
    samples, size = len(audio), int(window * SAMPLE_RATE)
    look = max(_STEP, int(min(seek, window / 2) * SAMPLE_RATE) // _STEP * _STEP)
    spans, start = [], 0
    while samples - start > size:
        low = start + size - look
        power = np.square(audio[low:low + look].reshape(-1, _STEP), dtype=np.float64).mean(axis=1)
        end = low + int(np.argmin(power)) * _STEP + _STEP // 2
        spans.append((start, end))
        start = end
    spans.append((start, samples))
    return spans


def transcribe_windows(asr: AsrBackend, audio: np.ndarray, window: float = WINDOW) -> Transcript:
    """``asr.transcribe`` over ``audio``, a window at a time; one transcript on the file's clock."""
    spans = windows(audio, window)
    if len(spans) == 1:
        return asr.transcribe(audio)
    lines, voiced, languages, model = [], [], [], None
    for first, end in spans:
        part = asr.transcribe(audio[first:end])
        shift = first / SAMPLE_RATE
        lines += [Line(l.start + shift, l.end + shift, l.text, [(a + shift, b + shift, w) for a, b, w in l.words])
                  for l in part.lines]
        voiced += [(a + shift, b + shift) for a, b in part.voiced]
        languages += [part.language] * len(part.lines)
        model = model or part.model
    if not lines:
        return dataclasses.replace(EMPTY, model=model)
    language = max(set(languages) - {None}, key=languages.count, default=None)  # most lines' language
    return Transcript(language, lines, model, voiced)
