"""Long audio through Whisper a window at a time, so its memory does not grow with the file.

faster-whisper turns all the audio it is given into features at once: measured, about 60 MB more
per minute of speech, so a two-hour talk would need gigabytes for Whisper alone. Audio is cut
into windows of ``WINDOW`` seconds instead, each ending at the quietest half second of its last
``SEEK`` seconds (a pause, in speech), transcribed one after the other, and the pieces' times
shifted back onto the file's clock. A file shorter than a window is one call, as before. In each
window, voiced stretches Whisper skipped are heard again (``asr_gaps``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import vad
from .asr_gaps import hear_gaps
from .vad import SAMPLE_RATE
from .whisper import EMPTY, AsrBackend, Transcript, spoken_languages

WINDOW = 300.0  # seconds of audio Whisper is given at once
SEEK = 20.0  # a window ends at the quietest half second of its last this many seconds


def windows(audio: np.ndarray, window: float = WINDOW, seek: float = SEEK) -> list[tuple[int, int]]:
    """[(first, end)] sample ranges of at most ``window`` seconds that Whisper is given in turn."""
    return vad.windows(audio, window, seek)


def transcribe_windows(asr: AsrBackend, audio: np.ndarray, window: float = WINDOW) -> Transcript:
    """``asr.transcribe`` over ``audio``, a window at a time; one transcript on the file's clock."""
    spans = windows(audio, window)
    if len(spans) == 1:
        return _heard(asr, audio)
    parts = [_heard(asr, audio[first:end]).later(first / SAMPLE_RATE) for first, end in spans]
    lines = [line for part in parts for line in part.lines]
    rendering = [line for part in parts for line in part.rendering]
    voiced = [span for part in parts for span in part.voiced]
    unheard = [span for part in parts for span in part.unheard]
    model = next((part.model for part in parts if part.model), None)
    if not lines:
        return dataclasses.replace(EMPTY, model=model, unheard=unheard)
    language = next(iter(spoken_languages(lines)), None)  # most lines' language
    return Transcript(language, lines, model, voiced, unheard=unheard, rendering=rendering)


def _heard(asr: AsrBackend, audio: np.ndarray) -> Transcript:
    return hear_gaps(asr, audio, asr.transcribe(audio))
