"""Copy descriptors of a file on its own: for videos indexed before they were kept
(``vidsearch index --only copies``) and for a clip asked about (``similar FILE --copies``).

The pictures and the sound are decoded (no OCR, nothing transcribed or embedded), in a child
process as always: a damaged file fails alone.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from search.copies.align import Descriptors
from search.copies.archive import update_matches
from search.copies.sound import sound_landmarks
from search.copies.stored import copy_hashes, videos_without_copies
from core.library import Library
from core.settings import Settings

from .backfill import indexed_under
from .decode import DecodeOptions, decode_file
from .isolate import IsolatedFailure, run_isolated
from .report import FileOutcome


def read_copies(path: str, settings: Settings) -> Descriptors:
    """The copy descriptors of ``path`` (pictures and sound), without a video id. Runs in a child process."""
    options = dataclasses.replace(DecodeOptions.from_settings(settings), audio=True, subtitles=False, faces=False,
                                  screen_size=0, copy_rate=settings.copy_rate or DecodeOptions.copy_rate)
    decoded = decode_file(path, options)
    sound = sound_landmarks(decoded.audio)
    times, hashes, mirrored = decoded.copies.arrays() if decoded.copies is not None else \
        (np.zeros(0, np.float32), np.zeros(0, np.uint64), np.zeros(0, np.uint64))
    return Descriptors(-1, times, hashes, decoded.info.duration, options.copy_rate, mirrored, *sound)


def file_descriptors(path: str, settings: Settings, video_id: int = -1) -> Descriptors:
    """The copy descriptors of any file (isolated); raises ``IsolatedFailure``."""
    found = run_isolated(read_copies, path, settings, timeout=settings.file_timeout)
    return dataclasses.replace(found, video_id=video_id)


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
        library.replace_copy_descriptors(video.id, copy_hashes(found.rate, found.times, found.hashes, found.mirrored,
                                                               found.sound_times, found.sound_hashes))
        outcomes.append(FileOutcome(str(path), "indexed", reason=f"{len(found)} copy descriptors, "
                                    f"{len(found.sound_times)} sound landmarks",
                                    video_id=video.id))
    update_matches(library)
    return outcomes
