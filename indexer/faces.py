"""Faces while a video is decoded: looked for on sampled frames, followed into appearances.

Frames are looked at on the schedule screen text uses (``screen_reads.ScreenSchedule``): at a
shot's start, then every ``face_interval`` while faces are found, backing off while none are
and skipping samples that repeat the one looked at last. A face is followed from frame to frame
by its descriptor (the same face lies closer than ``SAME_FACE``); its appearance runs from the
first frame it was found in to the first frame looked at without it (or the end). Each
appearance keeps the mean of its descriptors and a small still of its largest sighting.
Runs in the decoder's process; a model that cannot load is noted, and the file goes on.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import time

import numpy as np

from core.models.faces import FaceModel, distance
from core.rows import FaceSeen

from .frames import SeenFrame, scaled_size
from .probe import upright
from .screen_reads import ScreenSchedule

SAME_FACE = 0.5  # descriptors of one face from frame to frame within a shot lie well under this
SAME_PLACE = 0.5  # a face whose box overlaps a track's last box this much (IoU) is that track's
STILL_SIZE = 112  # pixels, the square a face's still is scaled into
FLAT = 4.0  # a picture whose brightness varies less than this (thumbnail, 0-255) holds no face: not looked at


@functools.lru_cache(maxsize=2)
def face_model(upsample: int = 0) -> FaceModel:
    """One model per decoder process (its weights take a second to read)."""
    return FaceModel(upsample)


@dataclasses.dataclass
class _Track:
    start: float
    last: float
    descriptors: list
    box: tuple
    area: float
    still: bytes | None
    last_box: tuple  # where it was at its last look
    looks: int = 0  # looks that found it

    def seen(self) -> FaceSeen:
        return FaceSeen(self.start, self.last, list(self.box), np.mean(self.descriptors, axis=0).astype(np.float32),
                        self.still, self.looks)


@dataclasses.dataclass
class _Schedule:
    screen_interval: float
    dedup_threshold: float


class FaceTracker:
    """The per-frame stage that finds faces (``appearances`` once the stream ended).
    ``options``: the decode options (``face_size``, ``face_interval``, ``dedup_threshold``)."""

    def __init__(self, options, stats: dict, model=None):
        self.options, self.stats = options, stats
        self.model = model
        self.appearances: list[FaceSeen] = []
        self.note: str | None = None
        self.seconds = 0.0
        self._open: list[_Track] = []
        self._schedule: ScreenSchedule | None = None
        self._size = None
        self._last_at = 0.0

    def see(self, seen: SeenFrame) -> None:
        self._last_at = seen.at
        if seen.first:
            self._schedule = ScreenSchedule(seen.at, _Schedule(self.options.face_interval,
                                                               self.options.dedup_threshold))
        else:
            self._schedule.see(seen.at, seen.jump)
        if self.note is not None or not seen.sampled or not self._schedule.due(seen.thumb, seen.at, seen.kept):
            return
        started = time.perf_counter()
        frame = seen.frame
        self._size = self._size or scaled_size(frame.width, frame.height, self.options.face_size)
        flat = float(seen.thumb[0].std()) < FLAT  # black between shots, a fade, a colour card
        image = None if flat else upright(
            frame.reformat(width=self._size[0], height=self._size[1], format="rgb24").to_ndarray(), seen.rotation)
        try:
            self.model = self.model or face_model()
            boxes = [] if flat else self.model.detect(image)
            self._follow(seen.at, image, boxes)
        except Exception as exc:  # noted once; the video is indexed without faces
            self.note = f"faces not looked for: {type(exc).__name__}: {exc}"[:1000]
            boxes = []
        self._schedule.read(seen.thumb, seen.at, bool(boxes))
        self.stats["face_frames"] = self.stats.get("face_frames", 0) + 1
        self.seconds += time.perf_counter() - started

    def _follow(self, at: float, image: np.ndarray, boxes) -> None:
        """Each face found at ``at`` continues the open track whose last box it overlaps (IoU >=
        ``SAME_PLACE``: no descriptor needed), else the one whose descriptor is nearest (within
        ``SAME_FACE``), else starts a track; tracks not continued end at ``at``."""
        height, width = image.shape[:2] if image is not None else (1, 1)
        still_open = []
        for pixels in boxes:
            box = (pixels[0] / width, pixels[1] / height, pixels[2] / width, pixels[3] / height)
            area = (box[2] - box[0]) * (box[3] - box[1])
            track = self._in_place(box, still_open)
            if track is None:
                descriptor = self.model.describe(image, pixels)
                track = self._nearest(descriptor, still_open) or _Track(at, at, [], box, 0.0, None, box)
                track.descriptors.append(descriptor)
            track.last, track.last_box = at, box
            track.looks += 1
            if area > track.area:
                track.box, track.area, track.still = box, area, _still(image, pixels)
            still_open.append(track)
        for track in self._open:
            if not any(track is t for t in still_open):
                self.appearances.append(track.seen()._replace(end=at))
        self._open = still_open

    def _in_place(self, box: tuple, taken: list) -> _Track | None:
        free = [t for t in self._open if not any(t is x for x in taken)]
        overlaps = [_iou(box, t.last_box) for t in free]
        if not overlaps or max(overlaps) < SAME_PLACE:
            return None
        return free[int(np.argmax(overlaps))]

    def _nearest(self, descriptor: np.ndarray, taken: list) -> _Track | None:
        free = [t for t in self._open if not any(t is x for x in taken)]
        if not free:
            return None
        gaps = [float(distance(descriptor, np.mean(t.descriptors, axis=0))[0]) for t in free]
        best = int(np.argmin(gaps))
        return free[best] if gaps[best] < SAME_FACE else None

    def finish(self) -> None:
        for track in self._open:
            self.appearances.append(track.seen()._replace(end=max(self._last_at, track.last)))
        self._open = []
        self.appearances.sort(key=lambda a: (a.start, a.box[0]))
        self.stats["face_seconds"] = self.seconds
        if self.note:
            self.stats["face_note"] = self.note

    def __getstate__(self) -> dict:  # results cross process boundaries; the model stays behind
        return {**self.__dict__, "model": None, "_schedule": None}


def _still(image: np.ndarray, box) -> bytes:
    """The face with a margin of a quarter of its size, scaled into ``STILL_SIZE``, as JPEG."""
    from PIL import Image

    x0, y0, x1, y1 = box
    pad = max(x1 - x0, y1 - y0) // 4
    crop = image[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    picture = Image.fromarray(crop)
    picture.thumbnail((STILL_SIZE, STILL_SIZE))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _iou(a: tuple, b: tuple) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
