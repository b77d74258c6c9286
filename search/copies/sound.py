"""Audio as a second witness of copies: spectral peak landmarks (in the spirit of Wang's Shazam
paper and Ellis' audfprint), taken from the 16 kHz audio the indexer already decodes for Whisper.

A copy keeps its sound more often than its framing (picture-in-picture, heavy crops, overlays),
and the strongest peaks of a spectrogram survive re-encoding, level changes and added noise. Each
peak is paired with a few later peaks near it; a pair (its two frequencies and their distance in
time) is a 32-bit landmark stamped with the first peak's time. Two recordings of one sound share
landmarks at one time offset; unrelated sound shares a few by chance, at scattered offsets.

A landmark that repeats many times in one recording (a steady tone, a hum, a beat) says nothing
about where it came from and is dropped, as a still frame counts for one moment in ``align``.
Silence and flat noise have no peaks, so they leave no landmarks. A copy whose speed changed
shifts every frequency or stretches every gap and keeps no landmark: speed is the picture's to tell.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from core.models.vad import SAMPLE_RATE

from .align import CopiedSpan, Descriptors, apart, strongest_offsets

_FFT = 1024  # 64 ms windows
_HOP = 512  # 32 ms between spectra
_BINS = 256  # up to 4 kHz: what survives low bit rates
_PEAK_FREQ = 15  # bins a peak must top on each side (so peaks spread over the spectrum)
_PEAK_TIME = 7  # spectra a peak must top on each side
_PER_SECOND = 12  # strongest peaks kept per second
_FAN = 4  # later peaks each peak is paired with
_PAIR_TIME = 63  # spectra a pair may span (2 s)
_PAIR_FREQ = 63  # bins a pair may span
_COMMON = 8  # a landmark seen more often than this in one recording tells nothing
_CROWDED = 64  # ... and one the archive holds more often than this
_FLOOR_DB = -60.0  # peaks quieter than this under the recording's loudest are not kept
HOP_SECONDS = _HOP / SAMPLE_RATE
_OFFSET_BIN = 0.1  # seconds: offsets this close vote together
_MAX_GAP = 6.0  # seconds without a shared landmark that a span bridges (a pause in speech)
MIN_HITS = 12  # shared landmarks along one offset before two recordings are compared
MIN_EVIDENCE = 5  # distinct seconds holding shared landmarks that a span needs


@dataclasses.dataclass(frozen=True)
class SoundPrints:
    """A video's landmarks: their times (seconds, ascending) and values."""

    video_id: int
    times: np.ndarray  # float32
    hashes: np.ndarray  # uint32

    def __len__(self) -> int:
        return len(self.times)


def sound_landmarks(audio: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(times float32, landmarks uint32) of 16 kHz mono ``audio``; empty for none or silence."""
    empty = np.zeros(0, np.float32), np.zeros(0, np.uint32)
    if audio is None or len(audio) < _FFT * 2:
        return empty
    peaks_t, peaks_f = _peaks(_spectrogram(np.asarray(audio, np.float32)))
    if len(peaks_t) < 2:
        return empty
    anchors, targets = [], []
    for step in range(1, _FAN * 4 + 1):  # each peak with the next ones in time order, the first _FAN that fit
        later = np.arange(len(peaks_t) - step)
        anchors.append(later)
        targets.append(later + step)
    a, b = np.concatenate(anchors), np.concatenate(targets)
    dt, df = peaks_t[b] - peaks_t[a], peaks_f[b].astype(np.int64) - peaks_f[a]
    fit = (dt > 0) & (dt <= _PAIR_TIME) & (np.abs(df) <= _PAIR_FREQ)
    a, dt, df = a[fit], dt[fit], df[fit]
    order = np.lexsort((dt, a))  # per anchor, the nearest in time first
    a, dt, df = a[order], dt[order], df[order]
    rank = np.arange(len(a)) - np.searchsorted(a, a)
    keep = rank < _FAN
    a, dt, df = a[keep], dt[keep], df[keep]
    values = (peaks_f[a].astype(np.uint32) << 14) | ((df + _PAIR_FREQ).astype(np.uint32) << 7) | dt.astype(np.uint32)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    told = counts[inverse] <= _COMMON
    times = (peaks_t[a] * HOP_SECONDS).astype(np.float32)[told]
    values = values[told]
    order = np.argsort(times, kind="stable")
    return times[order], values[order]


def _spectrogram(audio: np.ndarray) -> np.ndarray:
    """Log magnitude, (spectra, _BINS), in float32 (scipy's FFT keeps it; numpy's works in float64,
    four times slower here)."""
    from scipy.fft import rfft

    count = 1 + (len(audio) - _FFT) // _HOP
    frames = np.lib.stride_tricks.as_strided(audio, (count, _FFT), (audio.strides[0] * _HOP, audio.strides[0]))
    spectra = np.abs(rfft(frames * np.hanning(_FFT).astype(np.float32), axis=1))[:, :_BINS]
    return 20.0 * np.log10(spectra + np.float32(1e-6))


def _peaks(db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(spectrum index, bin) of the local maxima that stand out, at most ``_PER_SECOND`` a second."""
    from scipy.ndimage import maximum_filter

    top = maximum_filter(db, size=(2 * _PEAK_TIME + 1, 2 * _PEAK_FREQ + 1), mode="constant", cval=-np.inf)
    floor = max(float(db.max()) + _FLOOR_DB, -80.0)
    # a peak stands above its spectrum's typical level: flat noise and silence have none
    typical = np.median(db, axis=1, keepdims=True)
    t, f = np.nonzero((db == top) & (db > floor) & (db > typical + 10.0))
    if not len(t):
        return t, f
    strength = db[t, f]
    second = (t * HOP_SECONDS).astype(np.int64)
    order = np.lexsort((-strength, second))
    t, f, second = t[order], f[order], second[order]
    rank = np.arange(len(t)) - np.searchsorted(second, second)
    keep = rank < _PER_SECOND
    t, f = t[keep], f[keep]
    order = np.lexsort((f, t))
    return t[order], f[order]


def prints_of(descriptors: Descriptors) -> SoundPrints | None:
    """A video's sound landmarks, from its copy descriptors (None when they were not taken)."""
    if descriptors.sound_times is None or descriptors.sound_hashes is None:
        return None
    return SoundPrints(descriptors.video_id, descriptors.sound_times, descriptors.sound_hashes)


def sound_index(videos: list[Descriptors]) -> SoundIndex:
    """The landmarks of every video that has them."""
    return SoundIndex([p for p in map(prints_of, videos) if p is not None])


class SoundIndex:
    """Every landmark of a set of videos, looked up by value."""

    def __init__(self, prints: list[SoundPrints]):
        hashes = np.concatenate([p.hashes for p in prints] or [np.zeros(0, np.uint32)])
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.owner = np.concatenate([np.full(len(p), p.video_id, np.int64) for p in prints]
                                    or [np.zeros(0, np.int64)])[order]
        self.times = np.concatenate([p.times for p in prints] or [np.zeros(0, np.float32)])[order]

    def spans(self, query: SoundPrints, others: set[int] | None = None,
              min_seconds: float = 5.0) -> dict[int, list[CopiedSpan]]:
        """``query``'s spans of sound shared with each other video (of ``others`` when given)."""
        if not len(query) or not len(self.hashes):
            return {}
        low = np.searchsorted(self.hashes, query.hashes, "left")
        high = np.searchsorted(self.hashes, query.hashes, "right")
        counts = np.where(high - low <= _CROWDED, high - low, 0)  # a landmark half the archive holds tells nothing
        asked = np.repeat(np.arange(len(query)), counts)
        found = np.repeat(low - np.cumsum(np.concatenate([[0], counts[:-1]])), counts) + np.arange(counts.sum())
        owners = self.owner[found]
        mine = owners != query.video_id
        if others is not None:
            mine &= np.isin(owners, list(others))
        asked, found, owners = asked[mine], found[mine], owners[mine]
        out: dict[int, list[CopiedSpan]] = {}
        for other in np.unique(owners).tolist():
            on = owners == other
            spans = _align(query, other, query.times[asked[on]], self.times[found[on]], min_seconds)
            if spans:
                out[other] = spans
        return out


def _align(query: SoundPrints, other: int, q_at: np.ndarray, o_at: np.ndarray,
           min_seconds: float) -> list[CopiedSpan]:
    """Shared landmarks (their times in the query and in the other video) grouped by offset, each
    strong offset's landmarks joined into spans across gaps of at most ``_MAX_GAP``."""
    if len(q_at) < MIN_HITS:
        return []
    offsets = o_at.astype(np.float64) - q_at
    spans: list[CopiedSpan] = []
    for offset in strongest_offsets(offsets, _OFFSET_BIN, MIN_HITS):
        near = np.abs(offsets - offset) <= 1.5 * _OFFSET_BIN
        for start, end, seconds in _runs(np.sort(q_at[near].astype(np.float64))):
            if end - start < min_seconds or seconds < MIN_EVIDENCE:
                continue
            inside = (query.times >= start) & (query.times <= end)
            span = CopiedSpan(query.video_id, other, round(start, 2), round(end, 2), round(start + offset, 2),
                              round(end + offset, 2), round(float(near.sum()) / max(int(inside.sum()), 1), 3),
                              float(seconds), witness="sound")
            if apart(span, spans):
                spans.append(span)
    return spans


def _runs(times: np.ndarray) -> list[tuple[float, float, int]]:
    """(start, end, distinct seconds) of ``times`` joined across gaps of at most ``_MAX_GAP``."""
    if not len(times):
        return []
    breaks = np.nonzero(np.diff(times) > _MAX_GAP)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks + 1, [len(times)]])
    return [(float(times[s]), float(times[e - 1]) + HOP_SECONDS,
             len(np.unique(np.floor(times[s:e])))) for s, e in zip(starts, ends)]
