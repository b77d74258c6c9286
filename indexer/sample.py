"""Which decoded frames a video keeps: one at the sampling rate, unless it repeats the last kept
sample (static footage costs one frame, not one per second) or comes sooner than ``min_gap``
after it within one shot (a moment averages a few frames of each shot, see ``embed``: more of
one shot cost CLIP time and add nothing). Kept frames are scaled to CLIP's input size, upright."""
from __future__ import annotations

import numpy as np

from .frames import SeenFrame, difference, scaled_size
from .probe import upright

FRAME_CHUNK = 32  # kept frames handed on together (``on_frames``): one CLIP batch


class FrameSampler:
    """Keeps frames (``frames``, ``times``); ``on_frames(frames)`` instead gets them a chunk at a
    time as they are decoded (then ``frames`` ends empty: a long file is never held whole).
    ``options``: the decode options (``fps``, ``frame_size``, ``dedup_threshold``, ``min_gap``)."""

    def __init__(self, options, stats: dict, on_frames=None):
        self.options, self.stats, self.on_frames = options, stats, on_frames
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []
        self._interval = 1.0 / options.fps
        self._next_sample = 0.0
        self._last_kept = None
        self._last_kept_time, self._cut_since_kept = -1e9, False
        self._size = None

    def see(self, seen: SeenFrame) -> None:
        options, stats = self.options, self.stats
        if seen.first:
            self._size = scaled_size(seen.frame.width, seen.frame.height, options.frame_size)
        self._cut_since_kept = self._cut_since_kept or seen.jump
        if seen.at + 1e-6 < self._next_sample:
            return
        self._next_sample = seen.at + self._interval
        seen.sampled = True
        stats["sampled_frames"] += 1
        keep = True
        if self._last_kept is not None:
            if difference(seen.thumb, self._last_kept).max() < options.dedup_threshold:
                stats["duplicate_frames"] += 1
                keep = False
            elif seen.at - self._last_kept_time < options.min_gap - 1e-6 and not self._cut_since_kept:
                stats["spaced_frames"] = stats.get("spaced_frames", 0) + 1
                keep = False
        if not keep:
            return
        seen.kept = True
        self._last_kept, self._last_kept_time, self._cut_since_kept = seen.thumb, seen.at, False
        image = seen.frame.reformat(width=self._size[0], height=self._size[1], format="rgb24").to_ndarray()
        self.frames.append(upright(image, seen.rotation))
        self.times.append(seen.at)
        if self.on_frames is not None and len(self.frames) == FRAME_CHUNK:
            self.on_frames(self.frames)
            self.frames = []

    def finish(self) -> None:
        if self.on_frames is not None and self.frames:
            self.on_frames(self.frames)
            self.frames = []
