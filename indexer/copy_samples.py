"""Copy descriptors taken while a file is decoded (see ``search.copies``)."""
from __future__ import annotations

import time

import numpy as np

from core.rows import CopyHashes
from search.copies.hashing import GREY_SIZE, view_hashes
from search.copies.stored import copy_hashes

from .frames import SeenFrame


class CopySamples:
    """Copy descriptors taken as frames are decoded: hashes at every 1/rate s of the timeline
    (a fixed grid, so two copies sample the same instants whatever their frame rates), of every
    frame there, repeated or not, one per view (an instant's time repeats for each); frames with
    nothing to tell (black, flat) get none."""

    def __init__(self, rate: float):
        self.rate = rate
        self.times: list[float] = []
        self.hashes: list[int] = []
        self.mirrored: list[int] = []
        self._next = 0
        self.seconds = 0.0
        self._scaler = None  # one scaler for the whole file: PyAV's frame.reformat builds one per call
        self.sound: tuple[np.ndarray, np.ndarray] | None = None  # the sound's landmarks, set once heard

    def __getstate__(self) -> dict:  # results cross process boundaries; the scaler stays behind
        return {**self.__dict__, "_scaler": None}

    def see(self, seen: SeenFrame) -> None:
        frame, at, rotation = seen.frame, seen.at, seen.rotation
        if at + 1e-6 < self._next / self.rate:
            return
        started = time.perf_counter()
        self._next = int(at * self.rate + 1e-6) + 1
        if self._scaler is None:
            from av.video.reformatter import VideoReformatter

            self._scaler = VideoReformatter()
        grey = self._scaler.reformat(frame, width=GREY_SIZE, height=GREY_SIZE, format="gray").to_ndarray()
        for value, mirrored in view_hashes(np.rot90(grey, k=(rotation // 90) % 4)):
            self.times.append(at)
            self.hashes.append(value)
            self.mirrored.append(mirrored)
        self.seconds += time.perf_counter() - started

    def finish(self) -> None:
        pass

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, hashes, mirrored hashes)."""
        return np.asarray(self.times, np.float32), np.asarray(self.hashes, np.uint64), np.asarray(self.mirrored, np.uint64)

    def stored(self) -> CopyHashes:
        """What the library keeps of these samples."""
        return copy_hashes(self.rate, *self.arrays(), *(self.sound or (None, None)))
