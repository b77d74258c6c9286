"""Shot changes: where the picture jumps, found from every decoded frame's thumbnail."""
from __future__ import annotations

import numpy as np

from .frames import SeenFrame, difference

_ADAPTIVE_WINDOW = 12  # frames on each side that set the local level of change
_ADAPTIVE_RATIO = 4.0  # a change this many times the local level is a cut ...
_ADAPTIVE_MIN = 8.0  # ... when it is at least this large (0-255 summed over Y, U, V)
MIN_SHOT = 0.6  # seconds: of several cuts this close (a flash, an explosion), the strongest


def shot_cuts(times: list[float], scores: list[float], threshold: float) -> list[float]:
    """Cuts from per-frame change scores: above ``threshold``, or, like PySceneDetect's adaptive
    detector, well above the change around it (a cut between two still, similar slides is small
    in absolute terms but stands out against the stillness around it). Like its
    ``min_scene_len``, cuts closer than ``MIN_SHOT`` are one: flashes and fast action otherwise
    cut a battle scene every few frames."""
    values = np.asarray(scores, np.float64)
    found = []
    for i, score in enumerate(values):
        if score >= threshold:
            found.append((score, times[i]))
            continue
        if score < _ADAPTIVE_MIN:
            continue
        around = np.concatenate([values[max(0, i - _ADAPTIVE_WINDOW):i], values[i + 1:i + 1 + _ADAPTIVE_WINDOW]])
        level = float(around.mean()) if len(around) else 0.0
        if score >= _ADAPTIVE_RATIO * max(level, 1.0) and score == values[max(0, i - 2):i + 3].max():
            found.append((score, times[i]))
    kept: list[float] = []
    for _, at in sorted(found, key=lambda pair: (-pair[0], pair[1])):
        if all(abs(at - other) >= MIN_SHOT for other in kept):
            kept.append(at)
    return sorted(kept)


class ShotDetector:
    """The change of every frame from the one before (``SeenFrame.jump`` when it passes
    ``threshold``); the cuts once the stream has ended (``cuts``)."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.times: list[float] = []
        self.changes: list[float] = []
        self._previous = None

    def see(self, seen: SeenFrame) -> None:
        if self._previous is not None:
            self.times.append(seen.at)
            self.changes.append(float(difference(seen.thumb, self._previous).sum()))
            seen.jump = self.changes[-1] >= self.threshold
        self._previous = seen.thumb

    def finish(self) -> None:
        pass

    def cuts(self) -> list[float]:
        return shot_cuts(self.times, self.changes, self.threshold)
