"""Copy descriptors as the catalog keeps them (packed arrays) and back."""
from __future__ import annotations

import numpy as np

from ..catalog import CopyDescriptors, Video
from .align import Descriptors
from .groups import FileFacts
from .hashing import HASH_ID


def copy_row(rate: float, times: np.ndarray, hashes: np.ndarray) -> CopyDescriptors:
    return CopyDescriptors(method=HASH_ID, rate=float(rate), times=np.asarray(times, "<f4").tobytes(),
                           hashes=np.asarray(hashes, "<u8").tobytes())


def from_row(row: CopyDescriptors, video: Video) -> Descriptors:
    times = np.frombuffer(row.times, "<f4").astype(np.float32)
    hashes = np.frombuffer(row.hashes, "<u8").astype(np.uint64)
    return Descriptors(video.id, times, hashes, float(video.duration or 0.0), float(row.rate))


def facts_of(video: Video) -> FileFacts:
    return FileFacts(video.id, float(video.duration or 0.0), int(video.width or 0), int(video.height or 0),
                     int(video.size or 0))
