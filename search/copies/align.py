"""Which seconds of one video are copied in another: candidates from a binary index, then
alignment along time offsets (in the spirit of VCSL's diagonal and temporal-network methods).

A copy keeps time: sample t of the source is at t + offset in the copy, for one offset per copied
span (a frame-rate change keeps it; a trim or an insertion changes only the offset). So every pair
of matching hashes votes for its offset, the strongest offsets are taken, and along each one the
matching samples are joined into spans across small gaps (fast motion at another frame rate
matches at most samples, not all). A match counts less the more samples it matches on the other
side: a still frame (a test card, a slide background) matches a whole run of the other video, and
so adds up to one piece of evidence per diagonal instead of one per second. Evidence is therefore
about how many distinct moments agree, which is what tells a copy from two videos that share a
still picture.

A copy sped up or slowed down (by a few percent, to dodge matching or fit a slot) keeps time along
another slope: sample t is at slope * t + offset. The votes are therefore counted along each of
``SLOPES``, and a span long enough says the speed its matches show (the slope of the line through
them).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .hashing import hamming

RADIUS = 14  # bits: at most this many of 64 differ between a frame and its copy (a 10% crop: p50 12)
_OFFSET_BIN = 0.5  # seconds: offsets closer than this vote together
_OFFSET_SLACK = 0.75  # seconds: a match belongs to an offset this close
_MAX_GAP = 4.0  # seconds without a match that a span bridges
MIN_EVIDENCE = 3.0  # distinct agreeing moments a span needs
_BLOCK = 2048  # samples compared at once (bounds memory on long videos)
# b seconds per a second along which copies are sought: speed changes up to 10%. A slope next to 1
# holds much the same matches as 1 itself over a short span, so a span found along another slope
# replaces one found along 1 only when it holds clearly more evidence (``_OTHER_SPEED``).
SPEED_SPAN = 10.0  # seconds a span needs for its speed to be told
SPEED_STEP = 0.03  # the least change of speed said (smaller ones stay within a sample over most spans)
_OTHER_SPEED = 0.9  # a span along another slope than 1 must be this much stronger than one along 1
SLOPES = sorted(np.round(np.arange(0.90, 1.1001, 0.01), 2).tolist(), key=lambda k: (abs(k - 1.0), k))


@dataclasses.dataclass(frozen=True)
class Descriptors:
    """A video's copy descriptors: the times of its informative samples and their hashes."""

    video_id: int
    times: np.ndarray  # float32 seconds, ascending; an instant repeats once per view (hashing.view_hashes)
    hashes: np.ndarray  # uint64
    duration: float
    rate: float = 2.0  # samples per second the times were taken at
    mirrored: np.ndarray | None = None  # uint64: the hashes of the same frames mirrored, when taken
    sound_times: np.ndarray | None = None  # float32: the sound's landmarks (``sound``), when taken
    sound_hashes: np.ndarray | None = None  # uint32

    def __len__(self) -> int:
        return len(self.times)

    def in_mirror(self) -> "Descriptors | None":
        """These descriptors as a mirrored copy of the video would have them (None if not taken)."""
        if self.mirrored is None or len(self.mirrored) != len(self.hashes):
            return None
        return dataclasses.replace(self, hashes=self.mirrored, mirrored=self.hashes)


@dataclasses.dataclass(frozen=True)
class CopiedSpan:
    """``a``'s [a_start, a_end) is ``b``'s [b_start, b_end): ``score`` is the share of ``a``'s
    samples in the span that match, ``evidence`` how many distinct moments agree."""

    a: int
    b: int
    a_start: float
    a_end: float
    b_start: float
    b_end: float
    score: float
    evidence: float
    change: str = ""  # what the copy changed, when known: "mirrored", "speed 1.05x"
    witness: str = "picture"  # what found it: "picture", "sound" (``sound``), or "picture and sound"

    @property
    def seconds(self) -> float:
        return self.a_end - self.a_start

    def turned(self) -> "CopiedSpan":
        """The same span seen from ``b``."""
        return dataclasses.replace(self, a=self.b, b=self.a, a_start=self.b_start, a_end=self.b_end,
                                   b_start=self.a_start, b_end=self.a_end)


def _matches(a: Descriptors, b: Descriptors, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, bits) of every pair of samples within ``radius`` bits."""
    found_i, found_j, found_d = [], [], []
    for start in range(0, len(a), _BLOCK):
        block = hamming(a.hashes[start:start + _BLOCK, None], b.hashes[None, :])
        i, j = np.nonzero(block <= radius)
        found_i.append(i + start)
        found_j.append(j)
        found_d.append(block[i, j])
    if not found_i:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


def align(a: Descriptors, b: Descriptors, min_seconds: float = 5.0, radius: int = RADIUS,
          min_evidence: float = MIN_EVIDENCE) -> list[CopiedSpan]:
    """The spans of ``a`` copied in ``b``, strongest first, none overlapping another in ``a``."""
    if not len(a) or not len(b):
        return []
    i, j, bits = _matches(a, b, radius)
    if not len(i):
        return []
    per_i, per_j = _partners(a.times, i, b.times, j)
    weight = 1.0 / np.sqrt(per_i * per_j) * (1.0 - bits / (2.0 * (radius + 1)))
    a_at, b_at = a.times[i].astype(np.float64), b.times[j].astype(np.float64)
    step = 1.0 / a.rate
    spans: list[tuple[CopiedSpan, float, np.ndarray, np.ndarray]] = []  # (span, slope, matched times in a, in b)
    lines: dict[float, list[float]] = {}  # the offsets of the lines taken, per slope
    for slope in SLOPES:
        offsets = b_at - slope * a_at
        for offset in strongest_offsets(offsets, _OFFSET_BIN, min_evidence, weight):
            if any(np.any(np.abs(np.asarray(offsets_taken) - offset) < 2 * _OFFSET_BIN)
                   for k, offsets_taken in lines.items() if abs(slope - k) < 0.025):
                continue
            lines.setdefault(slope, []).append(offset)
            near = np.abs(offsets - offset) <= _OFFSET_SLACK
            spans += [(span, slope, *matched) for span, *matched in _runs(a, b, i[near], j[near], weight[near], step,
                                                                        min_seconds, min_evidence)]
    spans.sort(key=lambda found: -found[0].evidence * (1.0 if found[1] == 1.0 else _OTHER_SPEED))
    kept: list[CopiedSpan] = []
    for span, _, a_times, b_times in spans:
        if apart(span, kept):
            kept.append(dataclasses.replace(span, change=_speed(a_times, b_times)))
    return kept


def strongest_offsets(offsets: np.ndarray, width: float, minimum: float,
                      weights: np.ndarray | None = None) -> list[float]:
    """The offsets (multiples of ``width``) that matches vote for with at least ``minimum`` (each
    match its weight, or one), strongest first: a bin counts its neighbours' votes too, and only
    local maxima are taken (a bin beside a stronger one lies on the same line). The pictures'
    alignment and the sound's (``sound``) both vote this way."""
    bins = np.round(offsets / width).astype(np.int64)
    low = bins.min()
    votes = np.bincount(bins - low, weights=weights)
    votes = votes + np.concatenate([[0], votes[:-1]]) + np.concatenate([votes[1:], [0]])  # a bin and its neighbours
    left, right = np.concatenate([[-1.0], votes[:-1]]), np.concatenate([votes[1:], [-1.0]])
    peaks = np.nonzero((votes >= minimum) & (votes >= left) & (votes > right))[0]
    return [(peak + low) * width for peak in peaks[np.argsort(-votes[peaks], kind="stable")].tolist()]


def _partners(a_times: np.ndarray, i: np.ndarray, b_times: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each match (i, j): how many instants of ``b`` the instant of ``i`` matches, and how many
    instants of ``a`` the instant of ``j`` matches, in any view (a still frame matches a run of
    them, and counts as one moment over that run)."""
    a_instants, a_at = np.unique(a_times, return_inverse=True)
    b_instants, b_at = np.unique(b_times, return_inverse=True)
    pairs = np.unique(a_at[i].astype(np.int64) * len(b_instants) + b_at[j])  # each pair of instants once
    per_a = np.bincount(pairs // len(b_instants), minlength=len(a_instants))
    per_b = np.bincount(pairs % len(b_instants), minlength=len(b_instants))
    return per_a[a_at[i]], per_b[b_at[j]]


def _runs(a: Descriptors, b: Descriptors, i: np.ndarray, j: np.ndarray, weight: np.ndarray, step: float,
          min_seconds: float, min_evidence: float) -> list[tuple[CopiedSpan, np.ndarray, np.ndarray]]:
    """Matches along one line joined into spans across gaps of at most ``_MAX_GAP``: each with the
    times of its matches in ``a`` and in ``b``."""
    best: dict[float, tuple[float, int]] = {}  # per instant of a (any view): the best match's weight and j
    for ii, jj, w in zip(i.tolist(), j.tolist(), weight.tolist()):
        at = float(a.times[ii])
        if at not in best or w > best[at][0]:
            best[at] = (w, jj)
    order = sorted(best)
    runs, current = [], [order[0]]
    for at in order[1:]:
        if at - current[-1] > _MAX_GAP:
            runs.append(current)
            current = []
        current.append(at)
    runs.append(current)
    spans = []
    for run in runs:
        a_start, a_end = run[0], run[-1] + step
        evidence = sum(best[at][0] for at in run)
        if a_end - a_start < min_seconds or evidence < min_evidence:
            continue
        js = [best[at][1] for at in run]
        inside = len(np.unique(a.times[(a.times >= a_start) & (a.times < a_end)]))
        spans.append((CopiedSpan(a.video_id, b.video_id, round(a_start, 2), round(a_end, 2),
                                round(float(b.times[min(js)]), 2), round(float(b.times[max(js)]) + step, 2),
                                round(len(run) / max(inside, 1), 3), round(evidence, 2)),
                      np.asarray(run), b.times[js]))
    return spans


def _speed(a_times: np.ndarray, b_times: np.ndarray) -> str:
    """"speed 1.05x" when ``b`` plays the matched samples' times at another speed than ``a``: the
    slope of the line through them, over a span long enough to tell (a short span drifts less
    than a sample either way)."""
    if len(a_times) < 4 or a_times[-1] - a_times[0] < SPEED_SPAN:
        return ""
    slope = float(np.polyfit(a_times.astype(np.float64), b_times.astype(np.float64), 1)[0])
    return f"speed {1.0 / slope:.2f}x" if slope > 0 and abs(slope - 1.0) >= SPEED_STEP else ""


def apart(span: CopiedSpan, kept: list[CopiedSpan]) -> bool:
    """Whether ``span`` is other footage than every span ``kept``: it shares under half of the
    shorter of the two in ``a`` with each."""
    return all(_overlap(span, other) < 0.5 * min(span.seconds, other.seconds) for other in kept)


def _overlap(x: CopiedSpan, y: CopiedSpan) -> float:
    """Seconds of ``a`` that two spans both hold."""
    return max(0.0, min(x.a_end, y.a_end) - max(x.a_start, y.a_start))
