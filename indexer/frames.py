"""A decoded frame as the per-frame stages see it, and the small picture they compare.

The decoder makes one pass over a video stream and hands every frame to a list of observers, in
order: shot detection (``shots``), the frame sampler (``sample``), the copy descriptors
(``copy_samples``) and the on-screen text schedule (``screen_reads``). Each stage keeps its own
state; what they share is on the ``SeenFrame``: its time, a 64x36 colour (YUV) thumbnail, and
what earlier stages decided of it (a cut from the frame before, sampled, kept). A new per-frame
stage (faces) is one more observer.
"""
from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

_THUMB = (64, 36)


@dataclasses.dataclass
class SeenFrame:
    frame: object  # the decoded av.VideoFrame
    at: float  # seconds
    thumb: np.ndarray  # 3x36x64 Y, U, V
    rotation: int  # degrees the picture must turn to stand upright
    first: bool = False  # the stream's first decoded frame
    jump: bool = False  # a cut from the frame before (``shots``)
    sampled: bool = False  # at the sampling rate (``sample``)
    kept: bool = False  # kept as one of the video's frames (``sample``)


class FrameObserver(Protocol):
    def see(self, seen: SeenFrame) -> None:
        """Every decoded frame, in order."""

    def finish(self) -> None:
        """The stream ended."""


def scaled_size(width: int, height: int, short: int) -> tuple[int, int]:
    scale = short / min(width, height)
    if scale >= 1:
        return width - width % 2, height - height % 2
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


_PLANAR_8BIT = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
                          "yuv410p", "yuv411p", "yuv440p"})
_PLANAR_16BIT = frozenset({"yuv420p10le", "yuv422p10le", "yuv444p10le", "yuv420p12le"})


def _plane_thumb(plane, width: int, height: int, wide: bool, shift: int) -> np.ndarray | None:
    data = np.frombuffer(plane, np.uint16 if wide else np.uint8)
    data = data.reshape(-1, plane.line_size // (2 if wide else 1))[:height, :width]
    step_y, step_x = max(1, height // _THUMB[1]), max(1, width // _THUMB[0])
    thumb = data[::step_y, ::step_x][:_THUMB[1], :_THUMB[0]].astype(np.int16)
    if shift:
        thumb >>= shift
    return thumb if thumb.shape == (_THUMB[1], _THUMB[0]) else None


def yuv_thumb(frame) -> np.ndarray:
    """A 3x36x64 Y, U, V thumbnail, by striding over the planes: an order of magnitude cheaper
    than a scaler call, and shot detection runs on every decoded frame. Colour matters: two dark
    slides of different hues have nearly the same luma."""
    name = frame.format.name
    if name in _PLANAR_8BIT or name in _PLANAR_16BIT:
        wide = name in _PLANAR_16BIT
        shift = (int(name.endswith("12le")) * 2 + 2) if wide else 0
        planes = [_plane_thumb(p, p.width, p.height, wide, shift) for p in frame.planes[:3]]
        if all(p is not None for p in planes):
            return np.stack(planes)
    small = frame.reformat(width=_THUMB[0], height=_THUMB[1], format="yuv444p")
    return np.stack([_plane_thumb(p, _THUMB[0], _THUMB[1], False, 0) for p in small.planes[:3]])


def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference per plane (Y, U, V)."""
    return np.abs(a - b).reshape(3, -1).mean(axis=1)
