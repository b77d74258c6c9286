"""Where speech is in the audio, to the hundredth of a second: Silero VAD (shipped by faster-whisper).

Whisper's word timestamps drift: the first word of a file is often stamped at 0.0 s, and a word
after a pause is pulled back into the silence before it, by up to a second. A moment must start
where its first sentence starts, so sentence edges are snapped to the edges of voiced stretches
found by a voice-activity detector, which are exact to a few tens of milliseconds and cost a
fraction of a second per minute of audio.
"""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_MIN_SILENCE_MS = 200  # a pause this long between sentences separates two voiced stretches
_STEP = SAMPLE_RATE // 2
_SILENCE_RMS = 1e-3  # about -60 dBFS


def is_silent(audio: np.ndarray | None) -> bool:
    """No audio, under a tenth of a second, or quieter than -60 dBFS throughout."""
    return audio is None or len(audio) < SAMPLE_RATE // 10 or \
        float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < _SILENCE_RMS


def voiced_spans(audio: np.ndarray | None) -> list[tuple[float, float]]:
    """[(start, end)] seconds of speech; empty when there is none or no detector can run."""
    if audio is None or len(audio) < SAMPLE_RATE // 10:
        return []
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        found = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=_MIN_SILENCE_MS,
                                                        speech_pad_ms=0))
    except Exception as exc:  # sentences then keep Whisper's own edges
        log.warning("voice activity detection failed (%s); sentence edges from Whisper alone", exc)
        return []
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]


def windows(audio: np.ndarray, window: float, seek: float) -> list[tuple[int, int]]:
    """[(first, end)] sample ranges that cover the audio, each at most ``window`` seconds long and
    each ending at the quietest half second of its last ``seek`` seconds (a pause, in speech)."""
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
