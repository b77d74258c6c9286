"""Copy descriptors of a file on its own: for videos indexed before they were kept
(``vidsearch index --only copies``) and for a clip asked about (``similar FILE --copies``).

Only the video stream is decoded (no audio, no OCR, nothing embedded), in a child process as
always: a damaged file fails alone.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from search.copies.align import Descriptors
from search.copies.archive import update_matches
from search.copies.stored import copy_hashes, videos_without_copies
from core.library import Library
from core.settings import Settings

from .backfill import indexed_under
from .decode import DecodeOptions, decode_file
from .isolate import IsolatedFailure, run_isolated
from .report import FileOutcome


def read_copies(path: str, settings: Settings) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """(rate, times, hashes, mirrored hashes, duration) of ``path``. Runs in a child process."""
    options = dataclasses.replace(DecodeOptions.from_settings(settings), audio=False, subtitles=False,
                                  screen_size=0, copy_rate=settings.copy_rate or DecodeOptions.copy_rate)
    decoded = decode_file(path, options)
    if decoded.copies is None:
        return options.copy_rate, np.zeros(0, np.float32), np.zeros(0, np.uint64), np.zeros(0, np.uint64), \
            decoded.info.duration
    return (decoded.copies.rate, *decoded.copies.arrays(), decoded.info.duration)


def file_descriptors(path: str, settings: Settings, video_id: int = -1) -> Descriptors:
    """The copy descriptors of any file (isolated); raises ``IsolatedFailure``."""
    rate, times, hashes, mirrored, duration = run_isolated(read_copies, path, settings, timeout=settings.file_timeout)
    return Descriptors(video_id, times, hashes, duration, rate, mirrored)


def add_copy_descriptors(library: Library, settings: Settings, paths: list, force: bool = False) -> list[FileOutcome]:
    """Descriptors for the indexed videos under ``paths`` that have none (all with ``force``)."""
    outcomes: list[FileOutcome] = []
    missing = set(videos_without_copies(library.sessions))
    for path, video in indexed_under(library, paths, outcomes):
        if video.id not in missing and not force:
            outcomes.append(FileOutcome(str(path), "skipped", reason="has copy descriptors"))
            continue
        try:
            found = file_descriptors(str(path), settings, video.id)
        except IsolatedFailure as exc:
            outcomes.append(FileOutcome(str(path), "failed", "decode", str(exc)))
            continue
        library.replace_copy_descriptors(video.id, copy_hashes(found.rate, found.times, found.hashes, found.mirrored))
        outcomes.append(FileOutcome(str(path), "indexed", reason=f"{len(found)} copy descriptors",
                                    video_id=video.id))
    update_matches(library)
    return outcomes
